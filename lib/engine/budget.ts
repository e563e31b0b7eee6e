// Bounds on one query's evaluation by the router, kept apart from the evaluator so that any engine
// can charge them: samples held in memory (Prometheus's --query.max-samples, with its error) and
// turns of the event loop (a long evaluation must not stall other requests and health checks).
import { EvaluationError } from './types.ts';

/**
 * The samples one query may hold at once. The router holds everything it fetched, every subquery
 * step it memoises (one entry each, plus its samples) and a range query's answer until the query is
 * done, so charges only add up. Prometheus's semantics and words: past the limit, the query fails.
 */
export class SampleBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  charge(samples: number): void {
    this.held += samples;
    if (this.held > this.limit) throw new EvaluationError('query processing would load too many samples into memory in query execution');
  }
}

/** How long the evaluator may keep the event loop before it lets other work run. */
const SLICE_MS = 10;
/** Ticks between looks at the clock: reading it costs more than a tick. */
const TICKS_PER_LOOK = 16;

/**
 * Gives the event loop back every SLICE_MS of evaluation. In long loops: `const pause = yielder.tick();
 * if (pause !== null) await pause;` (null most of the time: no promise to wait for).
 */
export class Yielder {
  private ticks = 0;
  private since = performance.now();

  tick(): Promise<void> | null {
    if (++this.ticks % TICKS_PER_LOOK !== 0 || performance.now() - this.since < SLICE_MS) return null;
    return new Promise<void>((resolve) => setImmediate(() => {
      this.since = performance.now();
      resolve();
    }));
  }
}

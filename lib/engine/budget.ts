// Bounds on one query's evaluation by the router, kept apart from the evaluator so that any engine
// can charge them: samples held in memory (Prometheus's --query.max-samples, with its error) and
// turns of the event loop (a long evaluation must not stall other requests and health checks).
import { EvaluationError } from '../errors.ts';

/**
 * The samples one query may hold at once. The router holds everything it fetched, every subquery
 * step it memoises (one entry each, plus its samples) and a range query's answer until the query is
 * done, so charges only add up. Prometheus's semantics and words: past the limit, the query fails.
 */
export class SampleBudget {
  private heldSamples = 0;

  constructor(readonly limit: number) {}

  /** The samples charged so far: as charges only add up, the most the query held at once. */
  get held(): number {
    return this.heldSamples;
  }

  charge(samples: number): void {
    this.heldSamples += samples;
    if (this.heldSamples > this.limit) throw new EvaluationError('query processing would load too many samples into memory in query execution');
  }
}

/** How long an evaluation runs before it lets other work in, ms. */
const TIME_SLICE_MS = 10;

/**
 * A function to await between batches of work: it returns at once, or after a turn of the event loop
 * once the time slice is spent, so that one long evaluation never stalls other requests or health checks.
 */
export function timeSlicer(sliceMs = TIME_SLICE_MS): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

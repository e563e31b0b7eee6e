// One eval of Prometheus 3.14's scripts through the router's engine under 3.x semantics, in process:
// the query split at its selectors (every function, aggregation and operator evaluated by the engine)
// over one shard whose storage holds the eval's series (engine-storage.ts), its answer as the API
// would send it.
import { compileQuery } from '../../lib/engine/compile.ts';
import { SampleBudget } from '../../lib/engine/budget.ts';
import { buildOperator } from '../../lib/engine/execution/build.ts';
import { collectInstant, collectRange } from '../../lib/engine/execution/run.ts';
import { fetchLeaves, leafSeries, rawSeries } from '../../lib/engine/fetch.ts';
import { gridTimes, leafGrids, type Grid, type QueryTimes } from '../../lib/engine/grid.ts';
import { answerData } from '../../lib/engine/answer-data.ts';
import { EvaluationError, UnsupportedQueryError } from '../../lib/errors.ts';
import { ALL_EXPERIMENTAL, PromQLSyntaxError } from '../../lib/promql/parse.ts';
import { planQuery } from '../../lib/promql/plan.ts';
import { valueType } from '../../lib/promql/types.ts';
import type { ApiAnswer } from '../e2e/compare.ts';
import type { EvalCase } from './cases.ts';
import { StorageLimit, storageRemote } from './engine-storage.ts';
import { SHARD_LABEL } from './datasets.ts';

const SHARD = 'a';

/** The engine's answer, or `unsupported` with the reason where it refuses to evaluate the query. */
export type EngineOutcome = { kind: 'answer'; answer: ApiAnswer } | { kind: 'unsupported'; reason: string };

export async function evaluateWithEngine(c: EvalCase): Promise<EngineOutcome> {
  const grid: Grid = c.query.type === 'instant'
    ? { start: c.query.timeMs, end: c.query.timeMs, step: 0 }
    : { start: c.query.startMs, end: c.query.endMs, step: c.query.stepMs };
  const times: QueryTimes = { start: grid.start, end: grid.end, defaultSubqueryStepMs: 60_000, major: 3 };
  const error = (errorType: string, message: string): EngineOutcome => ({ kind: 'answer', answer: { httpStatus: 422, body: { status: 'error', errorType, error: message } } });
  try {
    const plan = planQuery(c.expr, SHARD_LABEL, [SHARD], 3);
    if (c.query.type === 'range' && (valueType(plan.root) === 'matrix' || valueType(plan.root) === 'string')) {
      return error('bad_data', 'invalid expression type for range query');
    }
    // Upstream's test engine enables every experimental feature.
    plan.checkForMajors([3], ALL_EXPERIMENTAL);
    const { expr, leaves } = compileQuery(plan, [SHARD], { major: 3, splitAt: 'selectors', spanMs: grid.end - grid.start });
    const budget = new SampleBudget(50_000_000);
    const remote = storageRemote(c.series, SHARD_LABEL);
    const fetched = await fetchLeaves(remote, leaves, leafGrids(expr, grid, times), { partial: false, shardConcurrency: 4, maxRequestsPerShard: 1_000_000 });
    const root = buildOperator(expr, grid, {
      leaves: (leaf, leafGrid) => leafSeries(fetched.leaves.get(leaf.id) ?? [], SHARD_LABEL, leafGrid, budget),
      rawLeaves: (leaf) => rawSeries(fetched.leaves.get(leaf.id) ?? [], SHARD_LABEL, budget),
      times,
      ctx: { batchSteps: 32, times, yieldPoint: async () => {}, budget },
    });
    const answer = c.query.type === 'range' ? await collectRange(root, gridTimes(grid), async () => {}, budget) : await collectInstant(root, grid.start);
    return { kind: 'answer', answer: { httpStatus: 200, body: { status: 'success', data: answerData(answer) } } };
  } catch (err) {
    if (err instanceof UnsupportedQueryError || err instanceof StorageLimit) return { kind: 'unsupported', reason: err.message };
    if (err instanceof EvaluationError) return error(err.errorType, err.message);
    if (err instanceof PromQLSyntaxError) return error('bad_data', err.message);
    throw err;
  }
}

// Queries that read several shards: the leaves go to the shards in parallel, the router evaluates the
// rest with Prometheus's semantics and answers as one global Prometheus would.
import { compileQuery } from '../engine/compile.ts';
import { SampleBudget, timeSlicer } from '../engine/budget.ts';
import { buildOperator } from '../engine/execution/build.ts';
import { collectInstant, collectRange } from '../engine/execution/run.ts';
import { fetchLeaves, leafSeries } from '../engine/fetch.ts';
import { gridTimes, leafGrids, subquerySteps, type Grid, type QueryTimes } from '../engine/grid.ts';
import { answerData } from '../engine/respond.ts';
import { unionAnswer } from '../merge/union.ts';
import { EvaluationError } from '../engine/types.ts';
import { UnsupportedQueryError } from '../promql/labels.ts';
import { PromQLSyntaxError } from '../promql/parse.ts';
import type { QueryPlan } from '../promql/plan.ts';
import { mergesReplicas } from '../shards/schema.ts';
import { valueType } from '../promql/types.ts';
import { remoteFor, respond, respondPieces, type RequestContext } from './context.ts';
import { ApiError } from './envelope.ts';
import { checkFanOut } from './limits.ts';
import type { ErrorPrefix } from './plans.ts';
import { parseTimeParam, type RangeParams } from './time.ts';

/** Steps evaluated together: large enough that per-batch work is noise, small enough to bound memory. */
const BATCH_STEPS = 128;

/** Prometheus's default evaluation interval: the step of subqueries written without one (`[5m:]`). */
const DEFAULT_SUBQUERY_STEP_MS = 60_000;

/** A query that reads several shards; `range` holds a range query's parameters, null for an instant query. */
export async function answerAcrossShards(ctx: RequestContext, plan: QueryPlan, range: RangeParams | null, prefix: ErrorPrefix): Promise<Response> {
  checkFanOut(plan.shards.length, ctx.limits);
  const rootType = valueType(plan.root);
  let grid: Grid;
  if (range !== null) {
    if (rootType === 'matrix' || rootType === 'string') {
      const name = rootType === 'matrix' ? 'range vector' : 'string';
      throw new ApiError('bad_data', `invalid expression type "${name}" for range query, must be Scalar or instant Vector`);
    }
    grid = range;
  } else {
    const t = parseTimeParam('time', ctx.params.get('time'), Date.now());
    grid = { start: t, end: t, step: 0 };
  }
  const times: QueryTimes = { start: grid.start, end: grid.end, defaultSubqueryStepMs: DEFAULT_SUBQUERY_STEP_MS };

  try {
    const rawShards = new Set([...ctx.map.shards.values()].filter(mergesReplicas).map((s) => s.name));
    const { expr, leaves } = compileQuery(plan, [...ctx.map.shards.keys()], { pushDown: ctx.pushDown, rawShards });
    // Refused before anything is fetched when the subqueries alone would hold too many steps
    // (`max_over_time(sum(up)[1d:1ms])`: 86.4 million), as Prometheus refuses them.
    const budget = new SampleBudget(ctx.limits.maxSamples);
    budget.charge(subquerySteps(expr, grid, times));
    const remote = remoteFor(ctx);
    const fetched = await fetchLeaves(remote, leaves, leafGrids(expr, grid, times), {
      partial: !ctx.strict, shardConcurrency: ctx.shardConcurrency, maxRequestsPerShard: ctx.limits.maxRequestsPerShard,
    });

    // The whole query is one leaf: the answer is the union of the shards' answers, passed on.
    const answers = expr.kind === 'leaf' ? fetched.leaves.get(expr.leaf.id) ?? [] : [];
    if (expr.kind === 'leaf' && answers.every((a) => a.answers.length === 1)) {
      const parts = answers.map((a) => ({ answer: a.answers[0]!, addLabel: a.addLabel }));
      return respondPieces(ctx, unionAnswer(parts, remote.shardLabel, range !== null || rootType === 'matrix' ? 'matrix' : 'vector', fetched.warnings));
    }

    const yieldPoint = timeSlicer();
    const root = buildOperator(expr, grid, {
      leaves: (leaf, leafGrid) => leafSeries(fetched.leaves.get(leaf.id) ?? [], remote.shardLabel, leafGrid, budget),
      times,
      ctx: { batchSteps: BATCH_STEPS, times, yieldPoint, budget },
    });
    const answer = range !== null ? await collectRange(root, gridTimes(grid), yieldPoint, budget) : await collectInstant(root, grid.start);
    return respond(ctx, answerData(answer), fetched.warnings);
  } catch (err) {
    if (err instanceof EvaluationError) throw new ApiError(err.errorType, err.message);
    if (err instanceof PromQLSyntaxError) throw new ApiError('bad_data', `${prefix}${err.message}`);
    if (err instanceof UnsupportedQueryError) throw new ApiError('execution', `${err.message}; the query reads shards ${plan.shards.map((s) => JSON.stringify(s)).join(', ')}`);
    throw err;
  }
}

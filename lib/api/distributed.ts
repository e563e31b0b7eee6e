// Queries that read several shards: the leaves go to the shards in parallel, the router evaluates the
// rest with Prometheus's semantics and answers as one global Prometheus would.
import { compileQuery } from '../engine/compile.ts';
import { SampleBudget, timeSlicer } from '../engine/budget.ts';
import { buildOperator } from '../engine/execution/build.ts';
import { collectInstant, collectRange } from '../engine/execution/run.ts';
import { fetchLeaves, leafSeries, rawSeries } from '../engine/fetch.ts';
import { asJson } from '../engine/remote.ts';
import { gridTimes, leafGrids, subquerySteps, type Grid, type QueryTimes } from '../engine/grid.ts';
import { answerData } from '../engine/answer-data.ts';
import { unionAnswer } from '../shard-label/union.ts';
import { EvaluationError, UnsupportedQueryError, ApiError } from '../errors.ts';
import { PromQLSyntaxError } from '../promql/parse.ts';
import type { QueryPlan } from '../promql/plan.ts';
import { mergedShardNames } from '../shards/schema.ts';
import { valueType } from '../promql/types.ts';
import { dataBody, piecesBody, remoteFor, type RequestContext } from './context.ts';
import type { JsonBody } from './envelope.ts';
import { StatsSum } from './query-stats.ts';
import { checkFanOut } from './limits.ts';
import { semanticsOf } from './versions.ts';
import type { ErrorPrefix } from './plans.ts';
import { parseTimeParam, type RangeParams } from './time.ts';

/** Steps evaluated together: large enough that per-batch work is noise, small enough to bound memory. */
const BATCH_STEPS = 128;

/** Prometheus's default evaluation interval: the step of subqueries written without one (`[5m:]`). */
const DEFAULT_SUBQUERY_STEP_MS = 60_000;

/** A query that reads several shards; `range` holds a range query's parameters, null for an instant query. */
export async function answerAcrossShards(ctx: RequestContext, plan: QueryPlan, range: RangeParams | null, prefix: ErrorPrefix): Promise<JsonBody> {
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
  // The router's part follows the semantics of the shards' Prometheus major (versions.ts); the query
  // must be valid for the major of every shard it reads (a shard of unknown version counts as that one).
  const majors = await ctx.versions.majors(ctx.map);
  const semantics = semanticsOf(majors);
  const shardMajors = [...new Set(plan.shards.map((s) => majors.get(s) ?? semantics.major))].sort();
  const times: QueryTimes = { start: grid.start, end: grid.end, defaultSubqueryStepMs: DEFAULT_SUBQUERY_STEP_MS, major: semantics.major };

  try {
    plan.checkForMajors(shardMajors);
    const { expr, leaves } = compileQuery(plan, [...ctx.map.shards.keys()], {
      pushDown: ctx.pushDown, major: semantics.major, spanMs: grid.end - grid.start, mergedShards: mergedShardNames(ctx.map),
    });
    // Refused before anything is fetched when the subqueries alone would hold too many steps
    // (`max_over_time(sum(up)[1d:1ms])`: 86.4 million), as Prometheus refuses them.
    const budget = new SampleBudget(ctx.limits.maxSamples);
    budget.charge(subquerySteps(expr, grid, times));
    // Prometheus answers statistics for any non-empty `stats` (`all` adds the per-step counts).
    const stats = (ctx.params.get('stats') ?? '') !== '' ? new StatsSum() : null;
    const remote = remoteFor(ctx, stats);
    const fetched = await fetchLeaves(remote, leaves, leafGrids(expr, grid, times), {
      partial: !ctx.strict, shardConcurrency: ctx.shardConcurrency, maxRequestsPerShard: ctx.limits.maxRequestsPerShard,
    });

    // The whole query is one leaf: the answer is the union of the shards' answers, passed on.
    const answers = expr.kind === 'leaf' ? fetched.leaves.get(expr.leaf.id) ?? [] : [];
    if (expr.kind === 'leaf' && answers.every((a) => a.answers.length === 1)) {
      const parts = answers.map((a) => ({ answer: asJson(a.answers[0]!), addLabel: a.addLabel }));
      const resultType = range !== null || rootType === 'matrix' ? 'matrix' : 'vector';
      // The router holds no samples of a union: its bytes are passed on.
      return piecesBody(ctx, unionAnswer(parts, remote.shardLabel, resultType, fetched.warnings, stats?.result(grid, 0)));
    }

    const yieldPoint = timeSlicer();
    const root = buildOperator(expr, grid, {
      leaves: (leaf, leafGrid) => leafSeries(fetched.leaves.get(leaf.id) ?? [], remote.shardLabel, leafGrid, budget),
      rawLeaves: (leaf) => rawSeries(fetched.leaves.get(leaf.id) ?? [], remote.shardLabel, budget),
      times,
      ctx: { batchSteps: BATCH_STEPS, times, yieldPoint, budget },
    });
    const answer = range !== null ? await collectRange(root, gridTimes(grid), yieldPoint, budget) : await collectInstant(root, grid.start);
    const data = answerData(answer);
    // Semantics said only where the router evaluated something itself: a union is each shard's own answer.
    const warnings = semantics.warning === null ? fetched.warnings : [...fetched.warnings, semantics.warning];
    return dataBody(ctx, stats === null ? data : { ...data, stats: stats.result(grid, budget.held) }, warnings);
  } catch (err) {
    if (err instanceof EvaluationError) throw new ApiError(err.errorType, err.message);
    if (err instanceof PromQLSyntaxError) throw new ApiError('bad_data', `${prefix}${err.message}`);
    if (err instanceof UnsupportedQueryError) throw new ApiError('execution', `${err.message}; the query reads shards ${plan.shards.map((s) => JSON.stringify(s)).join(', ')}`);
    throw err;
  }
}

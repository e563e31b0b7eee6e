// Queries that read several shards: the leaves go to the shards in parallel, the router evaluates the
// rest with Prometheus's semantics and answers as one global Prometheus would.
import { compileQuery } from '../engine/compile.ts';
import { Evaluator } from '../engine/evaluate.ts';
import { fetchLeaves } from '../engine/fetch.ts';
import { gridTimes, leafGrids, type Grid, type QueryTimes } from '../engine/grid.ts';
import { fetchedMatrixData, fetchedVectorData, matrixData, scalarData, stringData, vectorData } from '../engine/respond.ts';
import { assertDistinctSeries, assertUnique, SeriesCollector } from '../engine/series.ts';
import { EvaluationError } from '../engine/types.ts';
import { UnsupportedQueryError } from '../promql/labels.ts';
import { PromQLSyntaxError } from '../promql/parse.ts';
import type { QueryPlan } from '../promql/plan.ts';
import { valueType } from '../promql/types.ts';
import { respond, type RequestContext } from './context.ts';
import { ApiError } from './envelope.ts';
import { checkFanOut } from './limits.ts';
import { parseRangeParams, parseTimeParam } from './time.ts';

/** Prometheus's default evaluation interval: the step of subqueries written without one (`[5m:]`). */
const DEFAULT_SUBQUERY_STEP_MS = 60_000;

export async function answerAcrossShards(ctx: RequestContext, plan: QueryPlan, range: boolean): Promise<Response> {
  checkFanOut(plan.shards.length, ctx.limits);
  const rootType = valueType(plan.root);
  let grid: Grid;
  if (range) {
    if (rootType === 'matrix' || rootType === 'string') {
      const name = rootType === 'matrix' ? 'range vector' : 'string';
      throw new ApiError('bad_data', `invalid expression type "${name}" for range query, must be Scalar or instant Vector`);
    }
    const { start, end, step } = parseRangeParams(ctx.params);
    grid = { start, end, step };
  } else {
    const t = parseTimeParam('time', ctx.params.get('time'), Date.now());
    grid = { start: t, end: t, step: 0 };
  }
  const times: QueryTimes = { start: grid.start, end: grid.end, defaultSubqueryStepMs: DEFAULT_SUBQUERY_STEP_MS };

  try {
    const { expr, leaves } = compileQuery(plan, [...ctx.map.shards.keys()], { pushDown: ctx.pushDown });
    const fetched = await fetchLeaves(ctx, leaves, leafGrids(expr, grid, times), { partial: !ctx.strict, concurrency: ctx.concurrency });

    // The whole query is one leaf: the answer is the union of the shards' answers.
    if (expr.kind === 'leaf') {
      const series = fetched.data.get(expr.leaf.id) ?? [];
      assertDistinctSeries(series);
      const data = range || rootType === 'matrix' ? fetchedMatrixData(series) : fetchedVectorData(series);
      return respond(ctx, data, fetched.warnings);
    }

    const evaluator = new Evaluator(fetched.data, times);
    if (!range) {
      const value = evaluator.evaluate(expr, grid.start);
      const data = value.type === 'vector' ? vectorData(value.vector, grid.start)
        : value.type === 'scalar' ? scalarData(value.value, grid.start)
          : value.type === 'string' ? stringData(value.value, grid.start)
            : matrixData(value.matrix);
      return respond(ctx, data, fetched.warnings);
    }
    const collected = new SeriesCollector();
    for (const t of gridTimes(grid)) {
      const value = evaluator.evaluate(expr, t);
      if (value.type === 'scalar') collected.add({}, t, value.value);
      else if (value.type === 'vector') for (const s of assertUnique(value.vector)) collected.add(s.labels, t, s.value);
    }
    return respond(ctx, matrixData(collected.matrix()), fetched.warnings);
  } catch (err) {
    if (err instanceof EvaluationError) throw new ApiError(err.errorType, err.message);
    if (err instanceof PromQLSyntaxError) throw new ApiError('bad_data', `invalid parameter "query": ${err.message}`);
    if (err instanceof UnsupportedQueryError) throw new ApiError('execution', `${err.message}; the query reads shards ${plan.shards.map((s) => JSON.stringify(s)).join(', ')}`);
    throw err;
  }
}

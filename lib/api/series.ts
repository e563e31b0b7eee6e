// /api/v1/series: each match[] selector goes to the shards it touches; the answer is the union with
// the shard label added, in Prometheus's label-set order.
import { compareLabelSets } from '../labelsets.ts';
import { withShardLabel } from '../shard-label/edit.ts';
import { SeriesListSchema } from './answers.ts';
import { askShards, respond, type RequestContext } from './context.ts';
import { ApiError } from '../errors.ts';
import { uniteSeries } from '../replicas/union.ts';
import { applyLimit } from './truncate.ts';
import { selectorCalls } from './plans.ts';

export async function handleSeries(ctx: RequestContext): Promise<Response> {
  const selectors = ctx.params.getAll('match[]');
  if (selectors.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
  const { answers, warnings } = await askShards(ctx, selectorCalls(ctx, '/api/v1/series', 'POST'), SeriesListSchema, uniteSeries);
  const label = ctx.map.shardLabel;
  const series = answers.flatMap(({ shard, data }) => data.map((labels) => withShardLabel(labels, label, shard)));
  series.sort(compareLabelSets);
  const limited = applyLimit(ctx.params, series);
  return respond(ctx, limited.items, [...warnings, ...limited.warnings]);
}

// /api/v1/query_exemplars: exemplars belong to the series the query's selectors match, so each shard
// the query touches answers for its own selectors, and the answers are united with the shard label.
import { compareLabelSets } from '../labelsets.ts';
import { withShardLabel } from '../shard-label/edit.ts';
import { ExemplarsSchema } from './answers.ts';
import { askShards, respond, type RequestContext } from './context.ts';
import { uniteExemplars } from '../replicas/union.ts';
import { checkFanOut } from './limits.ts';
import { pick } from './params.ts';
import { planParam, shardQuery } from './plans.ts';

export async function handleExemplars(ctx: RequestContext): Promise<Response> {
  const plan = planParam(ctx.params.get('query') ?? '', ctx.map, '', ctx.shardRegexMajor);
  checkFanOut(plan.shards.length, ctx.limits);
  const { answers, warnings } = await askShards(ctx, plan.shards.map((shard) => {
    const params = pick(ctx.params, ['start', 'end']);
    params.set('query', shardQuery(plan, shard, '').query);
    return { shard, path: '/api/v1/query_exemplars', params, method: 'POST' as const };
  }), ExemplarsSchema, uniteExemplars);
  const label = ctx.map.shardLabel;
  const result = answers.flatMap(({ shard, data }) => data.map((s) => ({ ...s, seriesLabels: withShardLabel(s.seriesLabels, label, shard) })));
  result.sort((a, b) => compareLabelSets(a.seriesLabels, b.seriesLabels));
  return respond(ctx, result, warnings);
}

// /api/v1/metadata: every shard's metric metadata (every replica's, for a merged shard), merged per
// metric without duplicates.
import { compareStrings } from '../labelsets.ts';
import { MetadataSchema } from './answers.ts';
import { askShards, respond, type RequestContext } from './context.ts';
import { ApiError } from '../errors.ts';
import { pick } from './params.ts';
import { everyShardCalls } from './plans.ts';
import { uniteMetadata } from '../replicas/union.ts';

export async function handleMetadata(ctx: RequestContext): Promise<Response> {
  const params = pick(ctx.params, ['metric']);
  // A merged shard's replicas are united as the shards are: one Prometheus lists what all its targets expose.
  const { answers, warnings } = await askShards(ctx, everyShardCalls(ctx, '/api/v1/metadata', params), MetadataSchema, uniteMetadata);
  const limit = optionalCount(ctx.params, 'limit');
  const perMetric = optionalCount(ctx.params, 'limit_per_metric');
  const merged = uniteMetadata(answers.map((a) => a.data));
  const metrics = Object.keys(merged).sort(compareStrings);
  const kept = limit === null ? metrics : metrics.slice(0, limit);
  const result = Object.fromEntries(kept.map((metric) => [metric, perMetric === null ? merged[metric]! : merged[metric]!.slice(0, perMetric)]));
  return respond(ctx, result, warnings);
}

/** Prometheus treats a negative or absent limit as "no limit". */
function optionalCount(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name);
  if (raw === null || raw === '') return null;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new ApiError('bad_data', `invalid parameter "${name}": ${JSON.stringify(raw)} is not a number`);
  return n < 0 ? null : n;
}

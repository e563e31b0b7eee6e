// /api/v1/metadata: every shard's metric metadata, merged per metric without duplicates.
import { compareStrings } from '../labelsets.ts';
import { MetadataSchema } from './answers.ts';
import { askShards, respond, type RequestContext } from './context.ts';
import { ApiError } from '../errors.ts';
import { pick } from './params.ts';
import { everyShardCalls } from './plans.ts';

interface MetricMetadata { type: string; help: string; unit: string }

export async function handleMetadata(ctx: RequestContext): Promise<Response> {
  const params = pick(ctx.params, ['metric']);
  const { answers, warnings } = await askShards(ctx, everyShardCalls(ctx, '/api/v1/metadata', params), MetadataSchema);
  const limit = optionalCount(ctx.params, 'limit');
  const perMetric = optionalCount(ctx.params, 'limit_per_metric');
  const merged = new Map<string, Map<string, MetricMetadata>>();
  for (const { data } of answers) {
    for (const [metric, entries] of Object.entries(data)) {
      const known = merged.get(metric) ?? new Map<string, MetricMetadata>();
      for (const e of entries) known.set(JSON.stringify([e.type, e.help, e.unit]), e);
      merged.set(metric, known);
    }
  }
  const result: Record<string, MetricMetadata[]> = {};
  for (const metric of [...merged.keys()].sort(compareStrings)) {
    if (limit !== null && Object.keys(result).length >= limit) break;
    const entries = [...merged.get(metric)!.values()];
    result[metric] = perMetric === null ? entries : entries.slice(0, perMetric);
  }
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

// /api/v1/labels and /api/v1/label/<name>/values: unions over the shards the match[] selectors touch
// (all shards without match[]). The shard label itself is the router's: its values are the names of
// the shards that have matching series, which is what Grafana's `label_values(cluster)` asks for. A
// collector's own shard label is `original_<label>` (the rule in lib/shard-label/edit.ts).
import { quoteGo } from '../engine/go/format.ts';
import { compareStrings } from '../labelsets.ts';
import { collectorLabelName, originalLabel } from '../shards/shard-label-names.ts';
import { StringListSchema } from './answers.ts';
import { askShards, respond, type RequestContext } from './context.ts';
import { ApiError } from '../errors.ts';
import { uniteStrings } from '../replicas/union.ts';
import { applyLimit } from './truncate.ts';
import { selectorCalls } from './plans.ts';

export async function handleLabelNames(ctx: RequestContext): Promise<Response> {
  const { answers, warnings } = await askShards(ctx, selectorCalls(ctx, '/api/v1/labels', 'POST'), StringListSchema, uniteStrings);
  const label = ctx.map.shardLabel;
  const original = originalLabel(label);
  const names = new Set<string>();
  for (const name of answers.flatMap((a) => a.data)) {
    // The collectors' own shard label is shown as its original; their own original is not shown.
    if (name === label) names.add(original);
    else if (name !== original) names.add(name);
  }
  if (answers.some((a) => a.data.length > 0)) names.add(label);
  return unionResponse(ctx, names, warnings);
}

/** Prometheus 2.x's label names (model.LabelNameRE); the values endpoint refuses others before any work. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export async function handleLabelValues(ctx: RequestContext, name: string): Promise<Response> {
  if (!LABEL_NAME.test(name)) throw new ApiError('bad_data', `invalid label name: ${quoteGo(name)}`);
  if (name === ctx.map.shardLabel) {
    // A shard has matching series exactly when it knows any label name for them.
    const { answers, warnings } = await askShards(ctx, selectorCalls(ctx, '/api/v1/labels', 'POST'), StringListSchema, uniteStrings);
    const shards = answers.filter((a) => a.data.length > 0).map((a) => a.shard);
    return unionResponse(ctx, shards, warnings);
  }
  // The shard label's original is the collectors' own shard label (their own original is not shown).
  const path = `/api/v1/label/${encodeURIComponent(collectorLabelName(name, ctx.map.shardLabel))}/values`;
  const { answers, warnings } = await askShards(ctx, selectorCalls(ctx, path, 'GET'), StringListSchema, uniteStrings);
  return unionResponse(ctx, answers.flatMap((a) => a.data), warnings);
}

function unionResponse(ctx: RequestContext, values: Iterable<string>, warnings: string[]): Response {
  const sorted = [...new Set(values)].sort(compareStrings);
  const limited = applyLimit(ctx.params, sorted);
  return respond(ctx, limited.items, [...warnings, ...limited.warnings]);
}

// A replica's external labels (`global.external_labels` of its configuration). Remote read adds them to
// every series it returns, unless the series has a label of that name itself; the query API, whose
// answers the router must match, never shows them. HA pairs usually carry one (`replica="0"`), which
// would keep the replicas' series apart. Read from /api/v1/status/config and kept a minute per replica.
import { parse } from 'yaml';
import { ApiError } from '../errors.ts';
import { replicaName } from '../collectors/client.ts';
import { readBody, send } from '../collectors/http.ts';
import type { Shard } from '../shards/schema.ts';

const KEEP_MS = 60_000;
/** Configurations are small; one this large is not one. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_CACHED = 1024;

const cache = new Map<string, { readonly labels: ReadonlyMap<string, string>; readonly until: number }>();

export async function externalLabels(shard: Shard, replica: number, timeoutMs: number): Promise<ReadonlyMap<string, string>> {
  const base = shard.urls[replica]!;
  const key = `${base}\u0000${JSON.stringify(shard.headers)}`;
  const cached = cache.get(key);
  if (cached !== undefined && cached.until > Date.now()) return cached.labels;
  const response = await send(base, '/api/v1/status/config', { method: 'GET', headers: { ...shard.headers, 'accept-encoding': 'identity' }, timeoutMs });
  const text = (await readBody(response.body, MAX_CONFIG_BYTES)).toString('utf8');
  const labels = new Map<string, string>();
  try {
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    const config = parse((JSON.parse(text) as { data: { yaml: string } }).data.yaml) as { global?: { external_labels?: Record<string, unknown> } } | null;
    for (const [name, value] of Object.entries(config?.global?.external_labels ?? {})) if (typeof value === 'string') labels.set(name, value);
  } catch (err) {
    throw new ApiError('unavailable', `shard ${JSON.stringify(shard.name)}: collector ${replicaName(base, replica)} did not show its configuration (${(err as Error).message}), which remote read needs for its external labels`);
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, { labels, until: Date.now() + KEEP_MS });
  return labels;
}

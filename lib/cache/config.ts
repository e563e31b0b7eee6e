// The results cache a deployment asks for: `--cache` for `serve`, RESULTS_CACHE_* for the functions.
//   memory (the default): this process, LRU, bounded in bytes
//   redis://host:port/db, rediss://...: Redis or Valkey (ElastiCache, Tair), shared by every instance
//   off: no cache
import { DEFAULT_MEMORY_BYTES, MemoryBackend } from './memory.ts';
import { RedisBackend } from './redis.ts';
import { DEFAULT_CACHE_TIMEOUT_MS, DEFAULT_FRESHNESS_MS, ResultsCache } from './results.ts';

export interface CacheSettings {
  /** `memory`, `off`, or a redis:// / rediss:// URL; absent: memory. */
  readonly url?: string;
  /** The memory backend's bound in bytes. */
  readonly maxBytes?: number;
  /** Never store steps this close to now, in ms. */
  readonly freshnessMs?: number;
  /** The longest one backend call may take, in ms. */
  readonly timeoutMs?: number;
}

export class CacheSettingsError extends Error {}

export function createResultsCache(settings: CacheSettings, log: (entry: Record<string, unknown>) => void): ResultsCache | null {
  const url = settings.url ?? 'memory';
  const common = { freshnessMs: settings.freshnessMs ?? DEFAULT_FRESHNESS_MS, timeoutMs: settings.timeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS, log };
  if (url === 'off') return null;
  if (url === 'memory') return new ResultsCache({ ...common, backend: new MemoryBackend(settings.maxBytes ?? DEFAULT_MEMORY_BYTES) });
  if (/^rediss?:\/\//.test(url) && URL.canParse(url)) return new ResultsCache({ ...common, backend: new RedisBackend({ url, log }) });
  throw new CacheSettingsError(`the results cache must be "memory", "off" or a redis:// or rediss:// URL, got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//…@'))}`);
}

/** RESULTS_CACHE_URL, RESULTS_CACHE_BYTES, RESULTS_CACHE_FRESHNESS_SECONDS, RESULTS_CACHE_TIMEOUT_MS. */
export function cacheSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): CacheSettings {
  const number = (name: string, scale = 1): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new CacheSettingsError(`${name} must be a number of at least 0, got ${JSON.stringify(raw)}`);
    return Math.round(value * scale);
  };
  const url = env.RESULTS_CACHE_URL;
  return {
    ...(url === undefined || url === '' ? {} : { url }),
    ...optional('maxBytes', number('RESULTS_CACHE_BYTES')),
    ...optional('freshnessMs', number('RESULTS_CACHE_FRESHNESS_SECONDS', 1000)),
    ...optional('timeoutMs', number('RESULTS_CACHE_TIMEOUT_MS')),
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/**
 * One cache in front of every shard map source (file, SSM, OSS). Serverless instances live for
 * minutes to hours and the map changes rarely, so each instance reads its source at most once per
 * TTL, lazily, on the request that finds the map expired: no timers that would keep a process
 * alive or run while the platform has it frozen.
 */
import type { ShardMap } from './schema.ts';

/** Where a map (or another remote setting) comes from: read() returns it, validated, or throws why not. */
export interface ShardMapSource<T = ShardMap> {
  /** Names the source in logs and errors: a path, "SSM parameter /x", "oss://bucket/key". */
  readonly description: string;
  read(): Promise<T>;
}

export interface ShardMapLoader<T = ShardMap> {
  /** The map in force. Rejects only while no map has ever been read. */
  get(): Promise<T>;
  /** Milliseconds since the source last confirmed the map in force; null before the first map. */
  ageMs(): number | null;
}

export interface LoaderOptions {
  /** How long a map is served before the source is asked again (default 30 s), ±10% jitter. */
  readonly ttlMs?: number;
  /** Milliseconds on a monotonic clock (default performance.now). */
  readonly now?: () => number;
  /** Uniform in [0, 1), for the jitter (default Math.random). */
  readonly random?: () => number;
  /** Where a failed refresh is reported (default: one JSON line on stderr). */
  readonly log?: (entry: Record<string, unknown>) => void;
  /** What a failed refresh logs (default: about the shard map). */
  readonly failureMessage?: string;
}

export const DEFAULT_TTL_MS = 30_000;
/**
 * Instances started together (a deployment, a burst) would otherwise ask the source in lockstep;
 * spreading their refreshes keeps them clear of SSM's and OSS's request rate limits.
 */
const JITTER = 0.1;

export function cachedShardMap<T = ShardMap>(source: ShardMapSource<T>, options: LoaderOptions = {}): ShardMapLoader<T> {
  const {
    failureMessage = 'shard map refresh failed; keeping the last good map',
    ttlMs = DEFAULT_TTL_MS,
    now = () => performance.now(),
    random = Math.random,
    log = (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`),
  } = options;

  let current: { readonly map: T; readonly confirmedAt: number } | null = null;
  let expiresAt = 0;
  let refreshing: Promise<T> | null = null;

  /** Reads the source; with a map in force, never rejects: a failure keeps that map and is logged. */
  async function read(): Promise<T> {
    try {
      const map = await source.read();
      current = { map, confirmedAt: now() };
      return map;
    } catch (error) {
      if (current === null) throw error;
      log({
        level: 'error',
        msg: failureMessage,
        source: source.description,
        reason: error instanceof Error ? error.message : String(error),
        mapAgeMs: Math.round(now() - current.confirmedAt),
      });
      return current.map;
    } finally {
      // Also after a failure: a failing source is asked again after a TTL, not on every request.
      expiresAt = now() + ttlMs * (1 + JITTER * (2 * random() - 1));
    }
  }

  /** Callers that arrive while a read is under way share it. */
  function refresh(): Promise<T> {
    refreshing ??= read().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  return {
    async get() {
      if (current === null) return refresh();
      // Stale-while-revalidate: the expired map answers this request while the source is read.
      // The refresh cannot reject now that a map is in force, so nothing goes unhandled.
      if (now() >= expiresAt) void refresh();
      return current.map;
    },
    ageMs: () => (current === null ? null : now() - current.confirmedAt),
  };
}

// `prome-route serve`: the core behind Node's HTTP server, for development and self-hosting.
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authFromEnv } from '../lib/api/auth.ts';
import type { Limits } from '../lib/api/limits.ts';
import { batchedJsonLogger } from '../lib/api/log.ts';
import { createResultsCache, type CacheSettings } from '../lib/cache/config.ts';
import { createRouter } from '../lib/api/router.ts';
import { gzipResponse } from '../lib/platform/encoding.ts';
import { loadShardMapFile } from '../lib/shards/file.ts';
import type { ShardMap } from '../lib/shards/schema.ts';
import { CommandError, UsageError } from './shards.ts';

export interface ServeOptions {
  readonly map: ShardMap;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs?: number;
  readonly limits?: Partial<Limits>;
  /** The results cache for range queries (default: in memory). */
  readonly cache?: CacheSettings;
}

export interface Serving {
  readonly server: Server;
  readonly address: AddressInfo;
  /** Puts a new shard map in force for the requests that arrive from now on. */
  replaceMap(map: ShardMap): void;
}

/** Starts listening; resolves with the bound address, rejects with a readable reason. */
export function serve(options: ServeOptions): Promise<Serving> {
  let map = options.map;
  let loadedAt = Date.now();
  const log = batchedJsonLogger();
  const cache = createResultsCache(options.cache ?? {}, log);
  const router = createRouter({
    shardMap: async () => map,
    shardMapAge: () => Date.now() - loadedAt,
    timeoutMs: options.timeoutMs,
    limits: options.limits,
    auth: authFromEnv(process.env),
    log,
    ...(cache === null ? {} : { cache }),
  });
  const replaceMap = (next: ShardMap) => {
    map = next;
    loadedAt = Date.now();
  };
  // Compressed as Prometheus compresses its API's answers, for the clients that accept it (Grafana does).
  const fetch = async (request: Request) => gzipResponse(await router(request), request.headers.get('accept-encoding'));
  const server = createAdaptorServer({ fetch }) as Server;
  if (cache !== null) server.once('close', () => void cache.backend.close());
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${options.host}:${options.port}`;
      if (err.code === 'EADDRINUSE') reject(new Error(`cannot listen on ${where}: address already in use`));
      else if (err.code === 'EACCES') reject(new Error(`cannot listen on ${where}: permission denied`));
      // An address that is not this machine's is a mistake in the command line, not a runtime failure.
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new CommandError(`cannot listen on ${where}: no such local address`, 2));
      else reject(new Error(`cannot listen on ${where}: ${err.message}`));
    });
    server.listen(options.port, options.host, () => resolve({ server, address: server.address() as AddressInfo, replaceMap }));
  });
}

/** Parses `HOST:PORT`, `:PORT` (all interfaces, as in Go's listen addresses) or `[::1]:PORT`. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new UsageError(`invalid listen address ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.1:9091`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
}

/** Node's timers hold at most 2^31-1 ms; a longer timeout would fire at once (Node clamps it to 1 ms). */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** `--timeout SECONDS`: a positive number of seconds that Node's timers can hold; milliseconds. */
export function parseTimeoutSeconds(value: string): number {
  const seconds = value.trim() === '' ? NaN : Number(value);
  if (!(seconds > 0 && seconds <= MAX_TIMEOUT_SECONDS)) {
    throw new UsageError(`--timeout must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(value)}`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/**
 * Reloads the shard map from `file` on SIGHUP: the new map is validated first and put in force only
 * if it is valid; otherwise the map in force stays. Each outcome is one JSON log line.
 */
export function reloadOnHangup(file: string, serving: Pick<Serving, 'replaceMap'>, log: (entry: Record<string, unknown>) => void = (e) => console.log(JSON.stringify(e))): () => void {
  let running = Promise.resolve();
  const reload = () => {
    // One reload at a time, in signal order: the last signal's file content wins.
    running = running.then(async () => {
      try {
        const { map } = await loadShardMapFile(file);
        serving.replaceMap(map);
        log({ level: 'info', msg: 'shard map reloaded', file, shardLabel: map.shardLabel, shards: [...map.shards.keys()] });
      } catch (err) {
        log({ level: 'error', msg: 'shard map reload failed; keeping the map in force', file, error: (err as Error).message });
      }
    });
  };
  process.on('SIGHUP', reload);
  return () => process.off('SIGHUP', reload);
}

// Redis or Valkey (ElastiCache, Tair, a local redis-server), shared by every router instance, through
// node-redis (@redis/client): Redis's own maintained client, with per-command timeouts that also drop
// a command already sent (a hung server costs one timeout, not a queue), no offline queue (while the
// connection is down, commands fail at once instead of waiting for it), and reconnection in the
// background. It bundles with esbuild as plain JavaScript.
import { createClient, RESP_TYPES } from '@redis/client';
import type { CacheBackend, StoredEntry } from './backend.ts';

/** Reconnect after this long, growing to the cap: a Redis that is down costs nothing per request meanwhile. */
const RECONNECT_MS = 200;
const RECONNECT_CAP_MS = 5_000;
const CONNECT_TIMEOUT_MS = 2_000;

export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port/db` or `rediss://` (TLS, as ElastiCache with in-transit encryption). */
  readonly url: string;
  /** Called with a line for the log when the connection fails or comes back. */
  readonly log: (entry: Record<string, unknown>) => void;
}

export class RedisBackend implements CacheBackend {
  readonly kind = 'redis';
  private readonly client;
  private readonly connecting: Promise<unknown>;

  constructor(options: RedisBackendOptions) {
    const where = describeUrl(options.url);
    let down = false;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries) => Math.min(RECONNECT_MS * 2 ** Math.min(retries, 5), RECONNECT_CAP_MS),
      },
    }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    // Without a listener an 'error' event would end the process; one line per outage, not per retry.
    this.client.on('error', (err: Error) => {
      if (down) return;
      down = true;
      options.log({ level: 'warn', msg: 'results cache unavailable', backend: 'redis', url: where, error: err.message });
    });
    this.client.on('ready', () => {
      if (!down) return;
      down = false;
      options.log({ level: 'info', msg: 'results cache available again', backend: 'redis', url: where });
    });
    this.connecting = this.client.connect().catch(() => undefined);
  }

  async get(keys: readonly string[], timeoutMs: number): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    const values = await this.withTimeout(timeoutMs).mGet([...keys]);
    return values.map((v) => (Buffer.isBuffer(v) ? v : null));
  }

  async set(entries: readonly StoredEntry[], ttlSeconds: number, timeoutMs: number): Promise<void> {
    if (entries.length === 0) return;
    const multi = this.withTimeout(timeoutMs).multi();
    for (const { key, value } of entries) multi.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } });
    await multi.execAsPipeline();
  }

  async close(): Promise<void> {
    await this.connecting;
    if (this.client.isOpen) this.client.destroy();
  }

  private withTimeout(timeoutMs: number) {
    return this.client.withCommandOptions({ timeout: Math.max(1, Math.floor(timeoutMs)), rejectInFlight: true, typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } });
  }
}

/** The URL for logs: host, port and database, never a password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

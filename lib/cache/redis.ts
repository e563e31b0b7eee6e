// Redis or Valkey (ElastiCache, Tair, a local redis-server), shared by every router instance, through
// node-redis (@redis/client): Redis's own maintained client, with per-command timeouts that also drop
// a command already sent (a hung server costs one timeout, not a queue), no offline queue (while the
// connection is down, commands fail at once instead of waiting for it), and reconnection in the
// background. It is plain JavaScript without dependencies; it is loaded only when a Redis is configured
// (the function bundles keep it beside them, not in them: their cold start does not parse it).
import type { CacheBackend, StoredEntry } from './backend.ts';

type RedisModule = typeof import('@redis/client');

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
  readonly inProcess = false;
  private readonly ready: Promise<{ client: Client; firstConnect: Promise<void>; redis: RedisModule }>;

  constructor(options: RedisBackendOptions) {
    // The module as CommonJS exports it (`default`, where an ES module imports the functions' copy),
    // else its namespace (the CLI's bundle).
    this.ready = import('@redis/client')
      .then((imported) => (imported as { default?: RedisModule }).default ?? imported)
      .then((redis) => ({ ...connect(redis, options), redis }));
    // A failure to load or connect shows in the calls (each a miss) and in the client's own log line.
    this.ready.catch((err: unknown) => options.log({ level: 'warn', msg: 'results cache unavailable', backend: 'redis', error: (err as Error).message }));
  }

  async get(keys: readonly string[], timeoutMs: number): Promise<(Buffer | null)[]> {
    if (keys.length === 0) return [];
    const values = await (await this.withTimeout(timeoutMs)).mGet([...keys]);
    return values.map((v) => (Buffer.isBuffer(v) ? v : null));
  }

  async set(entries: readonly StoredEntry[], ttlSeconds: number, timeoutMs: number): Promise<void> {
    if (entries.length === 0) return;
    const multi = (await this.withTimeout(timeoutMs)).multi();
    for (const { key, value } of entries) multi.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } });
    await multi.execAsPipeline();
  }

  async close(): Promise<void> {
    const { client } = await this.ready;
    if (client.isOpen) client.destroy();
  }

  private async withTimeout(timeoutMs: number) {
    const { client, firstConnect, redis } = await this.ready;
    // Without an offline queue a command sent while the first connection is still being made fails at
    // once, and the cache would be skipped for its cool-down right after every cold start: the call
    // waits for that first attempt instead (within its own time limit, like any call).
    await firstConnect;
    return client.withCommandOptions({ timeout: Math.max(1, Math.floor(timeoutMs)), rejectInFlight: true, typeMapping: { [redis.RESP_TYPES.BLOB_STRING]: Buffer } });
  }
}

type Client = ReturnType<typeof connect>['client'];

/**
 * A client that connects (and reconnects) in the background, its outages logged once each; and its
 * first connection attempt, settled either way.
 */
function connect({ createClient, RESP_TYPES }: RedisModule, options: RedisBackendOptions) {
  const where = describeUrl(options.url);
  let down = false;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries) => Math.min(RECONNECT_MS * 2 ** Math.min(retries, 5), RECONNECT_CAP_MS),
    },
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  // Without a listener an 'error' event would end the process; one line per outage, not per retry.
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    options.log({ level: 'warn', msg: 'results cache unavailable', backend: 'redis', url: where, error: err.message });
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    options.log({ level: 'info', msg: 'results cache available again', backend: 'redis', url: where });
  });
  const firstConnect = client.connect().then(() => undefined, () => undefined);
  return { client, firstConnect };
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

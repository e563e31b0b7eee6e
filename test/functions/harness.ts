// Shared by the function tests: real collectors behind a shard map file, the core called directly as
// the reference, recorded platform events, and the bundles run in this process or a fresh one.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { createRouter, type Router } from '../../lib/api/router.ts';
import type { HttpResult } from '../../lib/platform/result.ts';
import { DEADLINE_MARGIN_MS } from '../../lib/platform/settings.ts';
import { loadShardMapFile } from '../../lib/shards/file.ts';
import { REPO_ROOT } from '../e2e/harness/corpus.ts';
import { startCluster, writeShardMap, type Cluster } from '../e2e/harness/prometheus.ts';

export const AWS_BUNDLE = path.join(REPO_ROOT, 'dist', 'aws', 'index.mjs');
export const FC_BUNDLE = path.join(REPO_ROOT, 'dist', 'aliyun', 'index.js');

export interface FunctionSession {
  cluster: Cluster;
  mapFile: string;
  /** The core with the same map, called directly: what every handler must answer. */
  core: Router;
}

/** Starts the collectors, writes their map to SHARD_MAP_FILE and silences the request log lines. */
export function useFunctionSession(): FunctionSession {
  const session = {} as FunctionSession;
  beforeAll(async () => {
    session.cluster = await startCluster({ shards: ['a', 'b', 'c'] });
    session.mapFile = path.join(session.cluster.dataDir, 'shards.json');
    await writeShardMap(session.mapFile, session.cluster.shards);
    process.env.SHARD_MAP_FILE = session.mapFile;
    const { map } = await loadShardMapFile(session.mapFile);
    session.core = createRouter({ shardMap: async () => map, log: () => {} });
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    delete process.env.SHARD_MAP_FILE;
    await session.cluster?.stop();
  });
  return session;
}

export async function loadEvent(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), 'events', name), 'utf8')) as Record<string, unknown>;
}

/** A Prometheus API call as the client meant it, independently of any platform's event format. */
export interface ApiCall {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly params: readonly (readonly [string, string])[];
}

export interface Answer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

export async function askCore(core: Router, call: ApiCall, authorization?: string): Promise<Answer> {
  const params = new URLSearchParams(call.params.map(([k, v]) => [k, v]));
  const auth: Record<string, string> = authorization === undefined ? {} : { authorization };
  const response = call.method === 'GET'
    ? await core(new Request(`http://core${call.path}?${params}`, { headers: auth }))
    : await core(new Request(`http://core${call.path}`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString(),
    }));
  return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, body: JSON.parse(await response.text()) };
}

/** The body a client ends up with: base64 decoded and gunzipped as the result says. */
export function resultText(result: HttpResult): string {
  const raw = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  return (result.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

export function resultAnswer(result: HttpResult): Answer {
  return { status: result.statusCode, contentType: result.headers['content-type'], body: JSON.parse(resultText(result)) };
}

/** A recorded event and the request it stands for, as the core would be asked it directly. */
export interface EventCase {
  readonly event: string;
  readonly call: ApiCall;
  /** Whether the event accepts gzip, so the result must be gzipped (and base64 encoded). */
  readonly gzip: boolean;
  /** The metric names the answer must hold, for answers whose content matters beyond equality. */
  readonly names?: string[];
}

/** A handler's result for a recorded event must be the core's answer, encoded as the event asked. */
export async function expectCoreAnswer(result: HttpResult, c: EventCase, core: Router): Promise<void> {
  expect(result.headers['content-encoding']).toBe(c.gzip ? 'gzip' : undefined);
  expect(result.isBase64Encoded).toBe(c.gzip);
  // The core's Server-Timing header reaches the platform's result: the router's time and each shard asked.
  expect(result.headers['server-timing']).toMatch(/^router;dur=\d+(\.\d)?(, shard-[a-c];dur=\d+(\.\d)?)+$/);
  const answer = resultAnswer(result);
  expect(answer.body).toMatchObject({ status: 'success' });
  expect(answer).toEqual(await askCore(core, c.call));
  if (c.names !== undefined) expect(metricNames(answer)).toEqual(c.names);
}

type Handler<E> = (event: E, context: unknown) => Promise<HttpResult>;

/** Starts a fresh handler instance (a cold start) reading its shard map from `mapFile`. */
type ColdStart<E> = (mapFile: string) => Promise<Handler<E>> | Handler<E>;

/** The tenant of the handlers' tenant tests, and the deployment's router-wide token. */
const TENANT = { name: 'ab', token: 'tenant-ab-token', shards: ['a', 'b'] };
const ROUTER_TOKEN = 'router-wide-token';

/** The cluster values of an answer: label values themselves, or each series' `cluster`. */
function clustersOf(answer: Answer): string[] {
  const data = (answer.body as { data: (string | Record<string, string>)[] }).data;
  return [...new Set(data.map((item) => (typeof item === 'string' ? item : item.cluster ?? '')))].sort();
}

/**
 * A deployment whose shard map has tenants enforces them in the core, as `serve` does: the tenant's
 * request gets the core's answer for the tenant (its shards only), a request without a token 401,
 * and the deployment's ROUTER_AUTH_TOKEN every shard. `event` is the case's event carrying the
 * given Authorization header (none: no header).
 */
export async function expectTenantsEnforced<E>(
  session: FunctionSession, coldStart: (env: Record<string, string>) => Promise<Handler<E>> | Handler<E>,
  c: EventCase, event: (authorization?: string) => Promise<E>, context: unknown,
): Promise<void> {
  const mapFile = path.join(session.cluster.dataDir, 'tenants.json');
  const tokenSha256 = createHash('sha256').update(TENANT.token).digest('hex');
  await writeFile(mapFile, JSON.stringify({ shards: session.cluster.shards, tenants: { [TENANT.name]: { tokenSha256, shards: TENANT.shards } } }));
  const handler = await coldStart({ SHARD_MAP_FILE: mapFile, ROUTER_AUTH_TOKEN: ROUTER_TOKEN });
  const { map } = await loadShardMapFile(mapFile);
  const core = createRouter({ shardMap: async () => map, log: () => {} });

  const asTenant = resultAnswer(await handler(await event(`Bearer ${TENANT.token}`), context));
  expect(asTenant).toEqual(await askCore(core, c.call, `Bearer ${TENANT.token}`));
  expect(asTenant.status).toBe(200);
  expect(clustersOf(asTenant)).toEqual(TENANT.shards);

  const anonymous = resultAnswer(await handler(await event(), context));
  expect(anonymous).toMatchObject({ status: 401, body: { status: 'error', errorType: 'unauthorized' } });

  const routerWide = resultAnswer(await handler(await event(`Bearer ${ROUTER_TOKEN}`), context));
  expect(routerWide).toEqual(await askCore(session.core, c.call));
  expect(clustersOf(routerWide)).toEqual(['a', 'b', 'c']);
}

/**
 * A function whose only collector never answers must end the request itself, with the core's own
 * Prometheus timeout. No wall-clock threshold (a loaded machine stretches every step, and a threshold
 * with it): which code path answered, and with what deadline, says it all. The error is the collector
 * client's, naming the shard and the time the core gave it, not the result's deadline ("ran out of time
 * reading the answer") nor the backstop's ("ran out of time before the query finished"); the handler
 * races the core against that backstop, BACKSTOP_MARGIN_MS before the function's end, so the core's
 * answer means its deadline came first. And the time given is at most the function's time less
 * DEADLINE_MARGIN_MS: the deadline came from the invocation's context, not the router's default 25 s.
 */
export async function expectCoreTimeout<E>(dir: string, coldStart: ColdStart<E>, event: E, invocation: { functionTimeMs: number; context: () => unknown }): Promise<void> {
  const silent = await startSilentCollector();
  try {
    const mapFile = path.join(dir, `silent-${process.hrtime.bigint()}.json`);
    await writeShardMap(mapFile, { a: silent.url });
    const handler = await coldStart(mapFile);
    const result = await handler(event, invocation.context());
    expect(result.statusCode).toBe(503);
    const { body } = resultAnswer(result) as { body: { status: string; errorType: string; error: string } };
    expect(body).toMatchObject({ status: 'error', errorType: 'timeout' });
    const given = /^shard "a": collector #1 \(127\.0\.0\.1:\d+\) did not answer within (\d+\.\d)s$/.exec(body.error);
    expect(given, `answered by the core's deadline: ${body.error}`).not.toBeNull();
    expect(Number(given![1]) * 1000).toBeLessThanOrEqual(invocation.functionTimeMs - DEADLINE_MARGIN_MS);
  } finally {
    await silent.stop();
  }
}

/**
 * A function whose shard map source hangs past the function's time must still answer with a Prometheus
 * timeout: the backstop's, the only thing that can end the call (without it, the call would run into
 * the test's own timeout).
 */
export async function expectTimeoutWhenSourceHangs<E>(dir: string, coldStart: ColdStart<E>, event: E, context: unknown): Promise<void> {
  const hung = await hungShardMapFile(dir);
  try {
    const handler = await coldStart(hung.file);
    const result = await handler(event, context);
    expect(result.statusCode).toBe(503);
    expect(resultAnswer(result).body).toEqual({
      status: 'error', errorType: 'timeout', error: 'the function ran out of time before the query finished',
    });
  } finally {
    await hung.release();
  }
}

/** An event the adapter cannot read gets a Prometheus internal error, and one log line saying why. */
export async function expectMalformedEventError<E>(handler: Handler<E>, event: E, context: unknown): Promise<void> {
  const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const result = await handler(event, context);
    expect(result.statusCode).toBe(500);
    expect(resultAnswer(result).body).toMatchObject({ status: 'error', errorType: 'internal' });
    expect(logged).toHaveBeenCalledOnce();
  } finally {
    logged.mockRestore();
  }
}

/** Metric names of a series answer (or of a vector/matrix answer). */
export function metricNames(answer: Answer): string[] {
  const data = (answer.body as { data: unknown }).data;
  const series = (Array.isArray(data) ? data : (data as { result: unknown[] }).result) as { metric?: Record<string, string>; __name__?: string }[];
  return [...new Set(series.map((s) => s.metric?.__name__ ?? s.__name__ ?? ''))].sort();
}

/**
 * Copies a bundle alone into an empty temporary directory (no node_modules anywhere above it) and
 * invokes its handler there with each event in turn, in one fresh process of `node` (default: this
 * one's), with only the given environment: a cold start, then warm invocations.
 */
export async function invokeInFreshProcess(
  bundle: string, events: readonly unknown[], context: unknown, env: Record<string, string>, node = process.execPath,
): Promise<HttpResult[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-fn-'));
  try {
    const file = path.join(dir, path.basename(bundle));
    const esm = file.endsWith('.mjs');
    await copyFile(bundle, file);
    await writeFile(path.join(dir, 'events.json'), JSON.stringify(events));
    const script = `
      import { readFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(file)});
      const { handler } = ${esm ? 'await import' : 'require'}(${JSON.stringify(file)});
      const results = [];
      for (const event of JSON.parse(readFileSync('events.json', 'utf8'))) {
        const context = JSON.parse(process.argv[1]);
        context.getRemainingTimeInMillis = () => 30000;
        results.push(await handler(${esm ? 'event' : 'Buffer.from(JSON.stringify(event))'}, context));
      }
      process.stdout.write('RESULT ' + JSON.stringify(results));`;
    const { stdout } = await promisify(execFile)(node, ['--input-type=module', '-e', script, JSON.stringify(context)],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 << 20 });
    return JSON.parse(stdout.slice(stdout.indexOf('RESULT ') + 'RESULT '.length)) as HttpResult[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A collector that accepts connections and never answers: only a deadline ends a request to it. */
async function startSilentCollector(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * A shard map "file" whose read never completes (a FIFO nobody writes to): a map source that hangs.
 * release() lets the blocked read finish, so no thread stays stuck after the test.
 */
export async function hungShardMapFile(dir: string): Promise<{ file: string; release(): Promise<void> }> {
  const file = path.join(dir, `hung-${process.hrtime.bigint()}.json`);
  await promisify(execFile)('mkfifo', [file]);
  return {
    file,
    async release() {
      // Non-blocking: fails at once (ENXIO) if no reader is waiting, instead of waiting for one.
      const writer = await open(file, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => null);
      await writer?.close();
      await rm(file, { force: true });
    },
  };
}

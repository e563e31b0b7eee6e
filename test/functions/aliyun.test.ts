// The Function Compute handler as deployed: loaded from the bundle (dist/aliyun/index.js, CommonJS)
// and fed recorded HTTP trigger events in front of real collectors. Each event must get the answer
// the core gives when called directly with the request the client meant.
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResult } from '../../lib/platform/result.ts';
import { RANGE } from '../e2e/harness/generate.ts';
import { startFakeOos } from '../shards/fake-oos.ts';
import { FC_CASES } from './cases.ts';
import {
  askCore, expectCoreAnswer, expectCoreTimeout, expectMalformedEventError, expectTenantsEnforced, expectTimeoutWhenSourceHangs, FC_BUNDLE, invokeInFreshProcess, loadEvent, resultAnswer, useFunctionSession, type ApiCall,
} from './harness.ts';

type Handler = (payload: Buffer | string, context: unknown) => Promise<HttpResult>;

const session = useFunctionSession();
const context = (timeoutSeconds = 30) => ({ requestId: '1-6955d0f0-test', function: { name: 'prome-route', handler: 'index.handler', memory: 512, timeout: timeoutSeconds } });
const START = String(RANGE.start);
const END = String(RANGE.end);
/** FC hands the event over as JSON in a Buffer. */
const payload = async (name: string) => Buffer.from(JSON.stringify(await loadEvent(name)));

/** A separate module instance (a separate cold start) configured with `env`. */
function coldStart(env: Record<string, string>): Handler {
  const require = createRequire(import.meta.url);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    delete require.cache[FC_BUNDLE];
    return (require(FC_BUNDLE) as { handler: Handler }).handler;
  } finally {
    process.env = saved;
  }
}

const CASES = FC_CASES;

describe('Function Compute handler (dist/aliyun/index.js)', () => {
  let handler: Handler;
  beforeAll(() => {
    handler = coldStart({ SHARD_MAP_FILE: session.mapFile });
  });
  afterEach(() => {
    delete process.env.RESPONSE_LIMIT_BYTES;
  });

  for (const c of CASES) {
    it(`answers ${c.event} as the core does`, async () => {
      await expectCoreAnswer(await handler(await payload(c.event), context()), c, session.core);
    });
  }

  it('accepts the event as a string too', async () => {
    const c = CASES[0]!;
    const result = await handler((await payload(c.event)).toString(), context());
    expect(resultAnswer(result)).toEqual(await askCore(session.core, c.call));
  });

  it('answers whatever the gateway domain, with or without `function` in the context', async () => {
    const c = CASES[1]!;
    const event = await loadEvent(c.event);
    // Alibaba's own sample event: not a valid host name.
    const sample = { ...event, requestContext: { ...(event.requestContext as object), domainName: '<http-trigger-id>.<region-id>.fcapp.run' } };
    for (const invocation of [{ requestId: 'no-function' }, {}, undefined]) {
      await expectCoreAnswer(await handler(Buffer.from(JSON.stringify(sample)), invocation), c, session.core);
    }
  });

  it('checks the bearer token read from an OOS encrypted parameter with the invocation\'s role keys, as s.yaml configures it', async () => {
    const oos = await startFakeOos();
    try {
      const role = { accessKeyId: 'STS.fc-role', accessKeySecret: 'fc-secret', securityToken: 'fc-token' };
      oos.keys.set(role.accessKeyId, { secret: role.accessKeySecret, token: role.securityToken });
      oos.put('prome-route-prod-auth-token', 'grafana-token');
      const guarded = coldStart({
        SHARD_MAP_FILE: session.mapFile,
        ROUTER_AUTH_TOKEN_OOS_PARAMETER: 'prome-route-prod-auth-token',
        ROUTER_AUTH_TOKEN_OOS_REGION: 'cn-hangzhou',
        ROUTER_AUTH_TOKEN_OOS_ENDPOINT: oos.url,
      });
      const c = CASES[1]!;
      const event = await loadEvent(c.event);
      const withToken = (token?: string) => Buffer.from(JSON.stringify({
        ...event, headers: { ...(event.headers as object), ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) },
      }));
      const invocation = { ...context(), credentials: role };
      expect((await guarded(withToken(), invocation)).statusCode).toBe(401);
      expect((await guarded(withToken('wrong'), invocation)).statusCode).toBe(401);
      await expectCoreAnswer(await guarded(withToken('grafana-token'), invocation), c, session.core);
    } finally {
      await oos.close();
    }
  });

  it('answers a Prometheus execution error when the answer exceeds the response limit', async () => {
    const call: ApiCall = { method: 'GET', path: '/api/v1/query_range', params: [['query', 'demo_memory_usage_bytes'], ['start', START], ['end', END], ['step', '15']] };
    expect(JSON.stringify((await askCore(session.core, call)).body).length).toBeGreaterThan(40_000);
    process.env.RESPONSE_LIMIT_BYTES = '40000';
    const event = await loadEvent('fc3-query-get-gzip.json');
    const result = await handler(Buffer.from(JSON.stringify({
      ...event,
      rawPath: '/api/v1/query_range',
      headers: { 'User-Agent': 'Grafana/11.3.0' },
      queryParameters: Object.fromEntries(call.params),
    })), context());
    expect(result.statusCode).toBe(422);
    expect(resultAnswer(result).body).toMatchObject({ status: 'error', errorType: 'execution' });
  });

  it('ends the request with the core\'s Prometheus timeout, its deadline taken from the function\'s time', async () => {
    await expectCoreTimeout(session.cluster.dataDir, (file) => coldStart({ SHARD_MAP_FILE: file }), await payload('fc3-query-get-gzip.json'),
      { functionTimeMs: 4_000, context: () => context(4) });
  });

  it('answers a Prometheus timeout when something outside the core hangs past the function time', async () => {
    await expectTimeoutWhenSourceHangs(session.cluster.dataDir, (file) => coldStart({ SHARD_MAP_FILE: file }), await payload('fc3-series-get-joined.json'), context(2));
  });

  it('answers a malformed event with a Prometheus internal error, and logs it', async () => {
    await expectMalformedEventError(handler, Buffer.from('not json'), context());
  });

  it('enforces the shard map\'s tenants through the core: a tenant sees its shards, no token gets 401', async () => {
    const c = CASES.find((x) => x.event === 'fc3-label-values.json')!;
    const event = async (authorization?: string) => {
      const recorded = await loadEvent(c.event);
      const headers = { ...(recorded.headers as Record<string, string>), ...(authorization === undefined ? {} : { Authorization: authorization }) };
      return Buffer.from(JSON.stringify({ ...recorded, headers }));
    };
    await expectTenantsEnforced(session, coldStart, c, event, context());
  });

  it('is one file that runs without the repository', async () => {
    // Well below what FC accepts; a bigger file would mean the AWS SDK got bundled in as well.
    expect((await stat(FC_BUNDLE)).size).toBeLessThan(1.5 * 1024 * 1024);
    const c = CASES[0]!;
    const result = await invokeInFreshProcess(FC_BUNDLE, [await loadEvent(c.event)], context(), { SHARD_MAP_FILE: session.mapFile });
    expect(resultAnswer(result[0]!)).toEqual(await askCore(session.core, c.call));
  });
});

// The Function Compute handler as deployed: loaded from the bundle (dist/aliyun/index.js, CommonJS)
// and fed recorded HTTP trigger events in front of real collectors. Each event must get the answer
// the core gives when called directly with the request the client meant.
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResult } from '../../lib/platform/result.ts';
import { EVAL_TIME, RANGE } from '../e2e/harness/generate.ts';
import { writeShardMap } from '../e2e/harness/prometheus.ts';
import {
  askCore, expectCoreAnswer, expectMalformedEventError, expectTenantsEnforced, expectTimeoutWhenSourceHangs, FC_BUNDLE, invokeInFreshProcess, loadEvent, resultAnswer,
  startSilentCollector, useFunctionSession, type ApiCall, type EventCase,
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

const CASES: EventCase[] = [
  {
    event: 'fc3-series-get-joined.json',
    gzip: false,
    call: {
      method: 'GET', path: '/api/v1/series', params: [
        ['match[]', 'demo_num_cpus{cluster="a",job="demo"}'],
        ['match[]', 'demo_disk_usage_bytes{cluster=~"b|c",instance!~"x,y"}'],
        ['match[]', '{__name__=~"demo_intermittent_metric|demo_num_cpus",cluster="c"}'],
        ['start', START], ['end', END],
      ],
    },
    names: ['demo_disk_usage_bytes', 'demo_intermittent_metric', 'demo_num_cpus'],
  },
  {
    event: 'fc3-query-get-gzip.json',
    gzip: true,
    call: { method: 'GET', path: '/api/v1/query', params: [['query', 'sum by (cluster, instance) (demo_memory_usage_bytes{cluster="a"})'], ['time', String(EVAL_TIME)]] },
  },
  {
    event: 'fc3-query-range-post-base64.json',
    gzip: true,
    call: { method: 'POST', path: '/api/v1/query_range', params: [['query', 'demo_disk_usage_bytes{cluster="b"}'], ['start', START], ['end', END], ['step', '60']] },
  },
  {
    event: 'fc3-label-values.json',
    gzip: false,
    call: { method: 'GET', path: '/api/v1/label/cluster/values', params: [['match[]', 'demo_num_cpus{instance="demo.promlabs.com:10000"}'], ['start', START], ['end', END]] },
  },
];

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

  it('ends the request with a Prometheus timeout before the function runs out of time', async () => {
    const silent = await startSilentCollector();
    try {
      const mapFile = path.join(session.cluster.dataDir, 'silent-fc.json');
      await writeShardMap(mapFile, { a: silent.url });
      const coldHandler = coldStart({ SHARD_MAP_FILE: mapFile });
      const started = Date.now();
      // A 3 s function: the core's deadline is 1.5 s, leaving the margin to hand the answer over.
      const result = await coldHandler(await payload('fc3-query-get-gzip.json'), context(3));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(result.statusCode).toBe(503);
      const { body } = resultAnswer(result) as { body: { status: string; errorType: string; error: string } };
      expect(body).toMatchObject({ status: 'error', errorType: 'timeout' });
      expect(body.error, 'answered by the core, not the backstop').not.toContain('ran out of time');
    } finally {
      await silent.stop();
    }
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
    const result = await invokeInFreshProcess(FC_BUNDLE, await loadEvent(c.event), context(), { SHARD_MAP_FILE: session.mapFile });
    expect(resultAnswer(result)).toEqual(await askCore(session.core, c.call));
  });
});

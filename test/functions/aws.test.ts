// The Lambda handler as deployed: loaded from the bundle (dist/aws/index.mjs) and fed recorded API
// Gateway events (REST API v1, HTTP API v2) in front of real collectors. Each event must get the
// answer the core gives when called directly with the request the client meant. Remote read's codecs
// are not in the bundle but beside it (scripts/build.mjs): a shard in "merge" mode loads them.
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpResult } from '../../lib/platform/result.ts';
import { diffAnswers, type ApiAnswer } from '../e2e/compare.ts';
import { RANGE } from '../e2e/harness/generate.ts';
import { AWS_CASES } from './cases.ts';
import {
  askCore, AWS_BUNDLE, expectCoreAnswer, expectCoreTimeout, expectMalformedEventError, expectTenantsEnforced, expectTimeoutWhenSourceHangs, invokeInFreshProcess, loadEvent, resultAnswer, useFunctionSession, type ApiCall,
} from './harness.ts';

type Handler = (event: unknown, context: unknown) => Promise<HttpResult>;

const session = useFunctionSession();
const context = (remainingMs = 30_000) => ({ awsRequestId: 'c0ffee00-test', getRemainingTimeInMillis: () => remainingMs });
const START = String(RANGE.start);
const END = String(RANGE.end);

/** A separate module instance (a separate cold start) configured with `env`. */
async function coldStart(instance: string, env: Record<string, string>): Promise<Handler> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return ((await import(`${pathToFileURL(AWS_BUNDLE).href}?${instance}`)) as { handler: Handler }).handler;
  } finally {
    process.env = saved;
  }
}

const CASES = AWS_CASES;

describe('AWS Lambda handler (dist/aws/index.mjs)', () => {
  let handler: Handler;
  beforeAll(async () => {
    handler = await coldStart('main', { SHARD_MAP_FILE: session.mapFile });
  });
  afterEach(() => {
    delete process.env.RESPONSE_LIMIT_BYTES;
  });

  for (const c of CASES) {
    it(`answers ${c.event} as the core does`, async () => {
      await expectCoreAnswer(await handler(await loadEvent(c.event), context()), c, session.core);
    });
  }

  it('answers whatever the gateway domain: the URL comes from the path and query only', async () => {
    for (const c of [CASES[0]!, CASES[3]!]) {
      const event = await loadEvent(c.event);
      const odd = { ...event, requestContext: { ...(event.requestContext as object), domainName: '<api-id>.execute-api.<region>.amazonaws.com' } };
      await expectCoreAnswer(await handler(odd, context()), c, session.core);
    }
  });

  it('answers a Prometheus execution error, not a 502, when the answer exceeds the payload limit', async () => {
    const query = 'demo_memory_usage_bytes';
    const call: ApiCall = { method: 'GET', path: '/api/v1/query_range', params: [['query', query], ['start', START], ['end', END], ['step', '15']] };
    const expected = await askCore(session.core, call);
    expect(JSON.stringify(expected.body).length).toBeGreaterThan(40_000);
    process.env.RESPONSE_LIMIT_BYTES = '40000';
    const event = await loadEvent('apigw-v2-query-range-gzip.json');
    event.rawQueryString = new URLSearchParams(call.params.map(([k, v]) => [k, v])).toString();

    const plain = await handler({ ...event, headers: { host: 'example.com' } }, context());
    expect(plain.statusCode).toBe(422);
    expect(resultAnswer(plain).body).toEqual({
      status: 'error', errorType: 'execution',
      error: 'the answer is larger than this deployment can return (40000 bytes): narrow the time range, raise the step or select fewer series',
    });
    // Compressed, the same answer fits.
    expect(resultAnswer(await handler(event, context()))).toEqual(expected);
  });

  it('ends the request with the core\'s Prometheus timeout, its deadline taken from the function\'s time', async () => {
    // Lambda's clock: the time left shrinks as the invocation runs.
    const functionTimeMs = 4_000;
    const lambdaContext = () => {
      const end = Date.now() + functionTimeMs;
      return { awsRequestId: 'c0ffee00-deadline', getRemainingTimeInMillis: () => end - Date.now() };
    };
    await expectCoreTimeout(session.cluster.dataDir, (file) => coldStart('deadline', { SHARD_MAP_FILE: file }), await loadEvent('apigw-v1-query-stage-gzip.json'),
      { functionTimeMs, context: lambdaContext });
  });

  it('answers a Prometheus timeout when something outside the core hangs past the function time', async () => {
    await expectTimeoutWhenSourceHangs(session.cluster.dataDir, (file) => coldStart('hung', { SHARD_MAP_FILE: file }), await loadEvent('apigw-v2-series-get.json'), context(2_000));
  });

  it('answers a malformed event with a Prometheus internal error, and logs it', async () => {
    await expectMalformedEventError(handler, { unexpected: true }, context());
  });

  it('enforces the shard map\'s tenants through the core: a tenant sees its shards, no token gets 401', async () => {
    const c = CASES[0]!;
    const event = async (authorization?: string) => {
      const recorded = await loadEvent(c.event);
      const headers = { ...(recorded.headers as Record<string, string>), ...(authorization === undefined ? {} : { authorization }) };
      return { ...recorded, headers };
    };
    await expectTenantsEnforced(session, (env) => coldStart('tenants', env), c, event, context());
  });

  it('reads a shard in "merge" mode with remote read\'s codecs, loaded from the file beside the bundle', async () => {
    const { a, ...others } = session.cluster.shards;
    const file = path.join(session.cluster.dataDir, 'merge-shards.json');
    await writeFile(file, JSON.stringify({ shards: { ...others, a: { urls: [a], replicas: 'merge' } } }));
    const merged = await coldStart('merge', { SHARD_MAP_FILE: file });
    const call: ApiCall = { method: 'GET', path: '/api/v1/query_range', params: [['query', 'rate(demo_cpu_usage_seconds_total{cluster="a"}[5m])'], ['start', START], ['end', END], ['step', '60']] };
    const event = await loadEvent('apigw-v2-query-range-gzip.json');
    event.rawQueryString = new URLSearchParams(call.params.map(([k, v]) => [k, v])).toString();
    const answer = resultAnswer(await merged({ ...event, headers: { host: 'example.com' } }, context()));
    // The shard's one replica, asked by the core in "failover" mode, is the oracle.
    const expected = await askCore(session.core, call);
    expect(diffAnswers({ httpStatus: answer.status, body: answer.body as ApiAnswer['body'] }, { httpStatus: expected.status, body: expected.body as ApiAnswer['body'] }, false)).toBeNull();
    expect((await stat(path.join(path.dirname(AWS_BUNDLE), 'remote-read-codecs.mjs'))).size).toBeLessThan(64 * 1024);
  });

  it('is one file under 1 MiB that runs without the repository', async () => {
    expect((await stat(AWS_BUNDLE)).size).toBeLessThan(1024 * 1024);
    const c = CASES[0]!;
    const result = await invokeInFreshProcess(AWS_BUNDLE, [await loadEvent(c.event)], { awsRequestId: 'fresh' }, { SHARD_MAP_FILE: session.mapFile });
    expect(resultAnswer(result[0]!)).toEqual(await askCore(session.core, c.call));
  });
});


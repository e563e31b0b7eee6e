// A real API Gateway emulator in front of the deployed configuration: the repository's serverless.yml
// under `osls offline` (serverless-offline, HTTP API payload 2.0), the function bundle from dist/ with
// the stack's own environment (shard map from the SSM path, token from the SSM SecureString, both read
// from a local endpoint speaking SSM's protocol), real collectors behind it, and Grafana's requests
// answered as the global Prometheus answers them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAnswers, type ApiAnswer } from '../e2e/compare.ts';
import { EVAL_TIME, RANGE } from '../e2e/harness/generate.ts';
import { startCluster, type Cluster } from '../e2e/harness/prometheus.ts';
import { startFakeSsm, type FakeSsm } from '../shards/fake-ssm.ts';
import { removeTemporaryDirs, startOslsOffline, type OfflineGateway } from './tools.ts';

const TOKEN = 'grafana-sends-this';
const START = String(RANGE.start);
const END = String(RANGE.end);
/** What Lambda takes as a result (6 MiB, the serialised JSON); over it, API Gateway would answer 502. */
const LAMBDA_RESULT_LIMIT = 6 * 1024 * 1024;

let cluster: Cluster;
let ssm: FakeSsm;
let gateway: OfflineGateway;

beforeAll(async () => {
  [cluster, ssm] = await Promise.all([startCluster({ shards: ['a', 'b', 'c'] }), startFakeSsm('eu-west-1')]);
  for (const [name, url] of Object.entries(cluster.shards)) ssm.put(`/prome-route/ci/shards/${name}`, url);
  ssm.put('/prome-route/ci/auth-token', TOKEN, 'SecureString');
  gateway = await startOslsOffline(['--stage', 'ci', '--region', 'eu-west-1'], {
    // The SDK in the function finds SSM here instead of ssm.eu-west-1.amazonaws.com.
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
}, 240_000);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([cluster?.stop(), ssm?.close()]);
  await removeTemporaryDirs();
});

type Params = readonly (readonly [string, string])[];

interface Answer extends ApiAnswer {
  readonly encoding: string | null;
  readonly bytes: number;
}

/** A request as Grafana's Prometheus data source sends it: bearer token, gzip accepted, GET or form POST. */
async function ask(base: string, path: string, params: Params, method: 'GET' | 'POST', headers: Record<string, string> = {}): Promise<Answer> {
  const form = new URLSearchParams(params.map(([k, v]) => [k, v]));
  const init = { headers: { 'accept-encoding': 'gzip', 'user-agent': 'Grafana/11.3.0', authorization: `Bearer ${TOKEN}`, ...headers } };
  const response = method === 'GET'
    ? await fetch(`${base}${path}${params.length > 0 ? `?${form}` : ''}`, init)
    : await fetch(`${base}${path}`, { ...init, method: 'POST', headers: { ...init.headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const text = await response.text();
  return { httpStatus: response.status, encoding: response.headers.get('content-encoding'), bytes: text.length, body: JSON.parse(text) as ApiAnswer['body'] };
}

const oracle = (path: string, params: Params) => ask(cluster.globalUrl, path, params, 'POST');

/** Series, label names and values: the same set as the oracle's, in any order. */
function sameSet(answer: ApiAnswer, expected: ApiAnswer): void {
  const sorted = (a: ApiAnswer) => ((a.body.data ?? []) as unknown[]).map((x) => JSON.stringify(x)).sort();
  expect(answer.body.status).toBe('success');
  expect(sorted(answer)).toEqual(sorted(expected));
  expect(sorted(answer).length).toBeGreaterThan(0);
}

describe('serverless.yml under osls offline (API Gateway emulated), the deployed configuration', () => {
  it('is ready once it has read the shard map from the SSM path', async () => {
    const ready = await fetch(`${gateway.url}/-/ready`);
    expect([ready.status, await ready.text()]).toEqual([200, 'prome-route is Ready.\n']);
    expect(ssm.requests.some((r) => r.target === 'AmazonSSM.GetParametersByPath' && r.status === 200)).toBe(true);
  });

  it('refuses requests without the token read from SSM', async () => {
    const answer = await ask(gateway.url, '/api/v1/labels', [], 'GET', { authorization: 'Bearer wrong' });
    expect([answer.httpStatus, answer.body.errorType]).toEqual([401, 'unauthorized']);
  });

  for (const method of ['GET', 'POST'] as const) {
    it(`answers ${method} query and query_range as the global Prometheus does, gzipped as asked`, async () => {
      const cases: [string, Params][] = [
        ['/api/v1/query', [['query', 'sum by (cluster) (rate(demo_cpu_usage_seconds_total{mode="idle"}[5m]))'], ['time', String(EVAL_TIME)]]],
        ['/api/v1/query_range', [['query', 'demo_memory_usage_bytes{cluster=~"a|c", type="used"}'], ['start', START], ['end', END], ['step', '60']]],
      ];
      for (const [path, params] of cases) {
        const answer = await ask(gateway.url, path, params, method);
        expect(answer.encoding, path).toBe('gzip');
        expect(diffAnswers(answer, await oracle(path, params), false), `${method} ${path}`).toBeNull();
      }
    });

    it(`answers ${method} series, labels (repeated match[]) as the global Prometheus does`, async () => {
      const matchers: Params = [['match[]', 'demo_num_cpus{cluster="a"}'], ['match[]', 'demo_disk_usage_bytes{cluster=~"b|c"}'], ['start', START], ['end', END]];
      for (const path of ['/api/v1/series', '/api/v1/labels']) sameSet(await ask(gateway.url, path, matchers, method), await oracle(path, matchers));
    });

    it(`answers ${method} query_exemplars as the global Prometheus does`, async () => {
      const params: Params = [['query', 'demo_api_request_duration_seconds_bucket{cluster="a"}'], ['start', START], ['end', END]];
      const answer = await ask(gateway.url, '/api/v1/query_exemplars', params, method);
      expect(answer.body).toEqual((await oracle('/api/v1/query_exemplars', params)).body);
    });
  }

  it('answers the GET-only endpoints: label values, metadata, rules, alerts as the oracle, buildinfo its own', async () => {
    const values: Params = [['match[]', 'demo_num_cpus'], ['start', START], ['end', END]];
    sameSet(await ask(gateway.url, '/api/v1/label/cluster/values', values, 'GET'), await ask(cluster.globalUrl, '/api/v1/label/cluster/values', values, 'GET'));
    for (const path of ['/api/v1/metadata', '/api/v1/rules', '/api/v1/alerts']) {
      expect((await ask(gateway.url, path, [], 'GET')).body, path).toEqual((await ask(cluster.globalUrl, path, [], 'GET')).body);
    }
    expect((await ask(gateway.url, '/api/v1/status/buildinfo', [], 'GET')).body).toMatchObject({ status: 'success', data: { version: expect.any(String) } });
  });

  it('answers an answer over the platform limit with a Prometheus error unless gzip makes it fit, then as the oracle', async () => {
    const params: Params = [['query', '{__name__=~"demo_.+"}'], ['start', START], ['end', END], ['step', '1']];
    const expected = await oracle('/api/v1/query_range', params);
    expect(expected.bytes, 'the oracle\'s answer is over what Lambda returns').toBeGreaterThan(LAMBDA_RESULT_LIMIT);
    const plain = await ask(gateway.url, '/api/v1/query_range', params, 'POST', { 'accept-encoding': 'identity' });
    expect([plain.httpStatus, plain.body.errorType]).toEqual([422, 'execution']);
    expect(plain.body.error).toMatch(/^the answer is larger than this deployment can return/);
    const gzipped = await ask(gateway.url, '/api/v1/query_range', params, 'POST');
    expect(gzipped.encoding).toBe('gzip');
    expect(diffAnswers(gzipped, expected, false)).toBeNull();
  });
});

// `prome-route check` as a user runs it after a deploy, the built CLI against local endpoints speaking
// CloudFormation's and Function Compute 3.0's protocols (the real SDKs), the token from the local SSM
// and OOS endpoints, and a real router (`prome-route serve`) in front of real collectors and one dead shard.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/harness/corpus.ts';
import { startCluster, writeShardMap, type Cluster } from '../e2e/harness/prometheus.ts';
import { startRouter, type RunningRouter } from '../e2e/router.ts';
import { startFakeOos, type FakeOos } from '../shards/fake-oos.ts';
import { startFakeSsm, type FakeSsm } from '../shards/fake-ssm.ts';
import { startFakeCloudFormation, startFakeFc } from './fake-clouds.ts';

const TOKEN = 'check-token';
let cluster: Cluster;
let router: RunningRouter;
let ssm: FakeSsm;
let oos: FakeOos;
let cfn: { url: string; close(): Promise<void> };
let fc: { url: string; close(): Promise<void> };

beforeAll(async () => {
  cluster = await startCluster({ shards: ['a', 'b'] });
  const mapFile = path.join(cluster.dataDir, 'check-shards.json');
  await writeShardMap(mapFile, { ...cluster.shards, dead: 'http://127.0.0.1:9' });
  process.env.ROUTER_AUTH_TOKEN = TOKEN;
  try {
    router = await startRouter(mapFile);
  } finally {
    delete process.env.ROUTER_AUTH_TOKEN;
  }
  ssm = await startFakeSsm('eu-west-1');
  ssm.put('/prome-route/prod/auth-token', TOKEN, 'SecureString');
  oos = await startFakeOos('cn-hangzhou');
  oos.keys.set('LTAI-operator', { secret: 'operator-secret' });
  oos.put('prome-route-prod-auth-token', TOKEN);
  cfn = await startFakeCloudFormation('eu-west-1', {
    'prome-route-prod': { HttpApiUrl: router.url, AuthTokenSsmParameter: '/prome-route/prod/auth-token', ShardLabel: 'cluster' },
  });
  fc = await startFakeFc(new Map([['LTAI-operator', 'operator-secret']]), {
    'prome-route-prod': { triggerUrl: router.url, environmentVariables: { ROUTER_AUTH_TOKEN_OOS_PARAMETER: 'prome-route-prod-auth-token' } },
  });
});

afterAll(async () => {
  await router?.stop();
  await Promise.all([cluster?.stop(), ssm?.close(), oos?.close(), cfn?.close(), fc?.close()]);
});

async function check(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'dist/cli.mjs'), 'check', ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: cluster.dataDir, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

const awsEnv = () => ({ AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.url, AWS_ENDPOINT_URL_SSM: ssm.url, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' });
const aliyunEnv = () => ({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-operator', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'operator-secret', ROUTER_AUTH_TOKEN_OOS_ENDPOINT: oos.url });

/** Each shard's line: the live ones with their series, the dead one with what is wrong; exit 1. */
function expectReport(run: { code: number; stdout: string }): void {
  expect(run.code, run.stdout).toBe(1);
  expect(run.stdout).toContain(`url: ${router.url}`);
  expect(run.stdout).toMatch(/^ready: yes \(prome-route is Ready\., \d+ ms\)$/m);
  expect(run.stdout).toMatch(/^version: \d+\.\d+\.\d+/m);
  expect(run.stdout).toContain('shards (cluster): 3');
  expect(run.stdout).toMatch(/^ {2}a: \d+ series, \d+ ms$/m);
  expect(run.stdout).toMatch(/^ {2}b: \d+ series, \d+ ms$/m);
  expect(run.stdout).toMatch(/^ {2}dead: FAILED after \d+ ms: HTTP 503: shard "dead": .+/m);
}

describe('prome-route check', () => {
  it('finds an AWS deployment through the stack output HttpApiUrl and its token in SSM', async () => {
    expectReport(await check(['--aws-stack', 'prome-route-prod', '--region', 'eu-west-1'], awsEnv()));
    expect(ssm.requests.some((r) => r.target === 'AmazonSSM.GetParameter' && r.status === 200)).toBe(true);
  });

  it('finds an FC 3.0 deployment through its HTTP trigger, and its token in OOS', async () => {
    const run = await check(['--fc-function', 'prome-route-prod', '--region', 'cn-hangzhou', '--fc-endpoint', fc.url], aliyunEnv());
    expect(run.stderr).toBe('');
    expectReport(run);
  });

  it('says what is wrong when the deployment cannot be found or the token is wrong', async () => {
    const missing = await check(['--aws-stack', 'nope', '--region', 'eu-west-1'], awsEnv());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('prome-route: cannot describe stack nope: ValidationError: Stack with id nope does not exist\n');
    const badKey = await check(['--fc-function', 'prome-route-prod', '--region', 'cn-hangzhou', '--fc-endpoint', fc.url], { ...aliyunEnv(), ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('cannot find function prome-route-prod (cn-hangzhou)');
    const wrongToken = await check(['--url', router.url, '--token', 'wrong'], {});
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stdout).toContain('HTTP 401: invalid credentials');
  });
});

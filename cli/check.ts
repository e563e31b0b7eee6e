// `prome-route check`: run right after a deploy, per region. Finds the deployment's URL (the AWS stack's
// HttpApiUrl output through CloudFormation; the FC function's HTTP trigger through the FC 3.0 API), its
// token (the SSM or OOS parameter the deployment reads, unless --token), then asks the router what a
// user's Grafana would: /-/ready, buildinfo, the shard label's values, and `count by (<shard label>) (up)`
// for each shard, and prints every shard
// with its series count, its latency, and what is wrong where it does not answer. The cloud SDKs load
// only here, from chunks of their own.
import { parseArgs } from 'node:util';
import { alibabaCredentialsFromEnv } from '../lib/shards/alibaba.ts';
import { oosEndpoint, readOosSecretParameter } from '../lib/shards/oos.ts';
import { readSsmParameter } from '../lib/shards/ssm.ts';
import { CommandError, UsageError } from './shards.ts';

export const CHECK_USAGE = `  prome-route check (--aws-stack NAME | --fc-function NAME | --url URL) [--region REGION]
                    [--token TOKEN] [--shard-label LABEL] [--fc-endpoint URL]
      Check a deployment: ready, version, and every shard's series, latency and errors.
      AWS: the stack's HttpApiUrl output, the token from its AuthTokenSsmParameter. Alibaba
      Cloud: the function's HTTP trigger URL and its OOS token parameter (--fc-endpoint, else
      https://$ALIBABA_CLOUD_ACCOUNT_ID.<region>.fc.aliyuncs.com). Exit 1 if a shard fails.
`;

interface Deployment {
  readonly url: string;
  readonly token?: string;
  readonly shardLabel: string;
}

export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'aws-stack': { type: 'string' }, 'fc-function': { type: 'string' }, url: { type: 'string' }, region: { type: 'string' },
      token: { type: 'string' }, 'shard-label': { type: 'string' }, 'fc-endpoint': { type: 'string' },
    },
  });
  const targets = [values['aws-stack'], values['fc-function'], values.url].filter((v) => v !== undefined);
  if (targets.length !== 1) throw new UsageError('check needs one of --aws-stack, --fc-function or --url');
  const deployment = values['aws-stack'] !== undefined
    ? await awsDeployment(values['aws-stack'], values.region)
    : values['fc-function'] !== undefined
      ? await fcDeployment(values['fc-function'], requiredRegion(values.region), values['fc-endpoint'])
      : { url: values.url!, shardLabel: 'cluster' };
  const report = await checkRouter({
    ...deployment,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values['shard-label'] === undefined ? {} : { shardLabel: values['shard-label'] }),
  });
  process.stdout.write(report.lines.map((line) => `${line}\n`).join(''));
  return report.ok ? 0 : 1;
}

function requiredRegion(region: string | undefined): string {
  if (region === undefined) throw new UsageError('--fc-function needs --region (e.g. cn-hangzhou)');
  return region;
}

/** The stack's outputs: HttpApiUrl, and where its token and shard label are. */
async function awsDeployment(stackName: string, region: string | undefined): Promise<Deployment> {
  const cfn = await import('@aws-sdk/client-cloudformation');
  const client = new cfn.CloudFormationClient(region === undefined ? {} : { region });
  let outputs: Map<string, string>;
  try {
    const { Stacks = [] } = await client.send(new cfn.DescribeStacksCommand({ StackName: stackName }));
    outputs = new Map((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    throw new CommandError(`cannot describe stack ${stackName}: ${(error as Error).name}: ${(error as Error).message}`, 1);
  }
  const url = outputs.get('HttpApiUrl');
  if (!url) throw new CommandError(`stack ${stackName} has no HttpApiUrl output: is it a prome-route stack, deployed?`, 1);
  const parameter = outputs.get('AuthTokenSsmParameter');
  return {
    url,
    shardLabel: outputs.get('ShardLabel') || 'cluster',
    ...(parameter ? { token: await readSsmParameter(parameter, 'auth token') } : {}),
  };
}

/** The function's HTTP trigger URL and the token in the OOS parameter its environment names. */
async function fcDeployment(functionName: string, region: string, endpoint: string | undefined): Promise<Deployment> {
  // CommonJS packages: imported from an ES module, `default` is their module.exports.
  const fc = (await import('@alicloud/fc20230330')).default as unknown as typeof import('@alicloud/fc20230330');
  const { $OpenApiUtil } = (await import('@alicloud/openapi-core')).default as unknown as typeof import('@alicloud/openapi-core');
  const { default: Client, GetFunctionRequest } = fc;
  const credentials = alibabaCredentialsFromEnv(process.env, 'Function Compute', 'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const account = process.env.ALIBABA_CLOUD_ACCOUNT_ID;
  if (endpoint === undefined && !account) throw new UsageError('--fc-function needs ALIBABA_CLOUD_ACCOUNT_ID (or --fc-endpoint)');
  const client = new Client(new $OpenApiUtil.Config({ ...credentials, regionId: region, endpoint: (endpoint ?? `https://${account}.${region}.fc.aliyuncs.com`).replace(/^https?:\/\//, ''), protocol: endpoint?.startsWith('http://') ? 'http' : 'https' }));
  try {
    const [{ body: trigger }, { body: fn }] = await Promise.all([
      client.getTrigger(functionName, 'http'),
      client.getFunction(functionName, new GetFunctionRequest({})),
    ]);
    const url = trigger?.httpTrigger?.urlInternet;
    if (!url) throw new Error(`function ${functionName} has no HTTP trigger named "http" with an internet URL`);
    const parameter = fn?.environmentVariables?.ROUTER_AUTH_TOKEN_OOS_PARAMETER;
    const token = parameter
      ? await readOosSecretParameter({ name: parameter, region, endpoint: process.env.ROUTER_AUTH_TOKEN_OOS_ENDPOINT || oosEndpoint(region, { internal: false }), credentials: () => credentials }, 'auth token')
      : fn?.environmentVariables?.ROUTER_AUTH_TOKEN;
    return { url, shardLabel: 'cluster', ...(token ? { token } : {}) };
  } catch (error) {
    throw new CommandError(`cannot find function ${functionName} (${region}): ${(error as Error).message}`, 1);
  }
}

interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly text: string;
  readonly body?: { status?: string; error?: string; warnings?: string[]; data?: unknown };
}

async function call(deployment: Deployment, path: string, form?: Record<string, string>): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = deployment.token === undefined ? {} : { authorization: `Bearer ${deployment.token}` };
  try {
    const response = await fetch(new URL(path.replace(/^\//, ''), deployment.url.endsWith('/') ? deployment.url : `${deployment.url}/`), form === undefined
      ? { headers, signal: AbortSignal.timeout(35_000) }
      : { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form), signal: AbortSignal.timeout(35_000) });
    const text = await response.text();
    let body: Answer['body'];
    try {
      body = JSON.parse(text) as Answer['body'];
    } catch {
      body = undefined;
    }
    return { status: response.status, ms: performance.now() - started, text, ...(body === undefined ? {} : { body }) };
  } catch (error) {
    return { status: 0, ms: performance.now() - started, text: (error as Error).message };
  }
}

const problem = (answer: Answer) => (answer.status === 0 ? answer.text : `HTTP ${answer.status}: ${answer.body?.error ?? answer.text.trim().slice(0, 200)}`);

/** The report on a router: one line each for readiness and version, then one per shard. */
export async function checkRouter(deployment: Deployment): Promise<{ ok: boolean; lines: string[] }> {
  const lines = [`url: ${deployment.url}`];
  const ready = await call(deployment, '/-/ready');
  lines.push(`ready: ${ready.status === 200 ? 'yes' : 'no'} (${ready.text.trim() || problem(ready)}, ${Math.round(ready.ms)} ms)`);
  const build = await call(deployment, '/api/v1/status/buildinfo');
  const version = (build.body?.data as { version?: string } | undefined)?.version;
  lines.push(`version: ${build.status === 200 && version ? version : problem(build)}`);
  const label = deployment.shardLabel;
  // Every shard with any series carries its name in the label; those that failed are named in the warnings.
  const names = await call(deployment, `/api/v1/label/${encodeURIComponent(label)}/values`);
  if (names.status !== 200 || names.body?.status !== 'success') {
    lines.push(`${label} values: ${problem(names)}`);
    return { ok: false, lines };
  }
  const failed = (names.body.warnings ?? []).flatMap((w) => [...w.matchAll(/shard "([^"]+)"/g)].map((m) => m[1]!));
  const shards = [...new Set([...(names.body.data as string[]), ...failed])].sort();
  // Each shard on its own, to time it and to hear its own error.
  const results = await Promise.all(shards.map(async (shard) => ({
    shard,
    answer: await call(deployment, '/api/v1/query', { query: `count by (${label}) (up{${label}=${JSON.stringify(shard)}})`, partial_response: 'false' }),
  })));
  let ok = shards.length > 0;
  lines.push(`shards (${label}): ${shards.length}`);
  for (const { shard, answer } of results) {
    const series = ((answer.body?.data as { result?: { value: [number, string] }[] } | undefined)?.result ?? [])[0]?.value[1];
    const good = answer.status === 200 && answer.body?.status === 'success';
    ok &&= good;
    lines.push(`  ${shard}: ${good ? `${series ?? 0} series, ${Math.round(answer.ms)} ms` : `FAILED after ${Math.round(answer.ms)} ms: ${problem(answer)}`}`);
  }
  if (shards.length === 0) lines.push('  (no shard answered with any `up` series)');
  return { ok, lines };
}

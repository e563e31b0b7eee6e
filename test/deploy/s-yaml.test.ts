// s.yaml for Serverless Devs (fc3 component), checked offline: the file as written, the file as
// Serverless Devs renders it (`s preview`, the same variable resolution `s deploy` does, which needs no
// account or network), and the rendered function against the fields and limits of the fc3 component.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { removeTemporaryDirs, repoRoot, serverlessDevs, type Run } from './tools.ts';

/** What a CI "deployment" sets: every PROME_ROUTE_* variable s.yaml reads without a default. */
const ciEnv = {
  PROME_ROUTE_VPC_ID: 'vpc-ci0000000000000000',
  PROME_ROUTE_VSWITCH_ID: 'vsw-ci0000000000000000',
  PROME_ROUTE_SECURITY_GROUP_ID: 'sg-ci0000000000000000',
  PROME_ROUTE_SHARD_MAP_BUCKET: 'prome-route-config',
  PROME_ROUTE_ROLE_ARN: 'acs:ram::1234567890123456:role/prome-route-fc',
  PROME_ROUTE_LOG_PROJECT: 'prome-route-logs',
};

const sPreview = (env: Record<string, string>) => serverlessDevs(['preview', '-o', 'json'], env);

const parsePreview = (run: Run) => {
  if (run.code !== 0) throw new Error(`s preview failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
};

// Names as FC 3.0 takes them: letters, digits, _ and -, not starting with a digit or -, at most 64.
const Name = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/));
const NonEmpty = v.pipe(v.string(), v.minLength(1));

/**
 * Function Compute 3.0's own rules for a function's resources, beyond the fc3 component's JSON schema
 * (https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/ "instance specifications", "configure
 * instance concurrency", and "feature updates in Function Compute 3.0"): vCPU in steps of 0.05 from
 * 0.05 to 16, memory in steps of 64 MB from 128 MB to 32 GB, between 1 and 4 GB of memory per vCPU,
 * disk 512 MB or 10 GB; instance concurrency (1 to 200) only on custom runtimes and custom containers:
 * "standard runtimes no longer support instance concurrency" in FC 3.0.
 */
function fcResourceProblems(fn: { runtime: string; cpu: number; memorySize: number; diskSize: number; instanceConcurrency?: number }): string[] {
  const problems: string[] = [];
  const steps = (value: number, step: number) => Math.abs(value / step - Math.round(value / step)) < 1e-9;
  if (!(fn.cpu >= 0.05 && fn.cpu <= 16 && steps(fn.cpu, 0.05))) problems.push(`cpu ${fn.cpu}: 0.05 to 16 in steps of 0.05`);
  if (!(fn.memorySize >= 128 && fn.memorySize <= 32768 && fn.memorySize % 64 === 0)) problems.push(`memorySize ${fn.memorySize}: 128 to 32768 MB in steps of 64`);
  const gbPerCpu = fn.memorySize / 1024 / fn.cpu;
  if (!(gbPerCpu >= 1 && gbPerCpu <= 4)) problems.push(`${gbPerCpu} GB per vCPU: between 1 and 4`);
  if (![512, 10240].includes(fn.diskSize)) problems.push(`diskSize ${fn.diskSize}: 512 or 10240`);
  const custom = fn.runtime.startsWith('custom');
  if (fn.instanceConcurrency !== undefined && !custom) problems.push(`instanceConcurrency on the built-in runtime ${fn.runtime}: custom runtimes and containers only`);
  if (fn.instanceConcurrency !== undefined && !(Number.isInteger(fn.instanceConcurrency) && fn.instanceConcurrency >= 1 && fn.instanceConcurrency <= 200)) {
    problems.push(`instanceConcurrency ${fn.instanceConcurrency}: 1 to 200`);
  }
  return problems;
}

/** The fc3 component's function properties that s.yaml uses, with their limits; other keys are errors (typos). */
const FcFunction = v.strictObject({
  region: v.picklist(['cn-hangzhou', 'cn-shanghai', 'cn-qingdao', 'cn-beijing', 'cn-zhangjiakou', 'cn-huhehaote', 'cn-shenzhen',
    'cn-chengdu', 'cn-hongkong', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-5', 'ap-southeast-7',
    'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-1']),
  functionName: Name,
  description: v.optional(v.string()),
  runtime: v.literal('nodejs20'),
  code: NonEmpty,
  handler: v.pipe(v.string(), v.regex(/^[^.]+\.[A-Za-z_$][\w$]*$/)),
  instanceConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
  cpu: v.pipe(v.number(), v.minValue(0.05), v.maxValue(16)),
  memorySize: v.pipe(v.number(), v.integer(), v.multipleOf(64), v.minValue(128), v.maxValue(32768)),
  diskSize: v.picklist([512, 10240]),
  timeout: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86400)),
  concurrencyConfig: v.strictObject({ reservedConcurrency: v.pipe(v.number(), v.integer(), v.minValue(1)) }),
  role: v.pipe(v.string(), v.regex(/^acs:ram::\d+:role\/[\w.-]+$/)),
  internetAccess: v.boolean(),
  vpcConfig: v.strictObject({
    vpcId: v.pipe(v.string(), v.startsWith('vpc-')),
    vSwitchIds: v.pipe(v.array(v.pipe(v.string(), v.startsWith('vsw-'))), v.minLength(1)),
    securityGroupId: v.pipe(v.string(), v.startsWith('sg-')),
  }),
  environmentVariables: v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)), v.string()),
  logConfig: v.strictObject({
    project: NonEmpty,
    logstore: NonEmpty,
    enableRequestMetrics: v.optional(v.boolean()),
    enableInstanceMetrics: v.optional(v.boolean()),
    logBeginRule: v.optional(v.picklist(['DefaultRegex', 'None'])),
  }),
  triggers: v.tuple([v.strictObject({
    triggerName: Name,
    triggerType: v.literal('http'),
    description: v.optional(v.string()),
    triggerConfig: v.strictObject({
      authType: v.picklist(['anonymous', 'function']),
      methods: v.array(v.picklist(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'])),
      disableURLInternet: v.optional(v.boolean()),
    }),
  })]),
});
type FcFunction = v.InferOutput<typeof FcFunction>;

const SYaml = v.object({
  edition: v.literal('3.0.0'),
  name: Name,
  access: NonEmpty,
  vars: v.record(v.string(), v.unknown()),
  resources: v.record(v.string(), v.object({ component: v.literal('fc3'), props: v.record(v.string(), v.unknown()) })),
});

let raw: v.InferOutput<typeof SYaml>;
let fn: FcFunction;
let shanghai: FcFunction;
let priorToken: Run;
let previews: Run[];

beforeAll(async () => {
  raw = v.parse(SYaml, parse(await readFile(join(repoRoot, 's.yaml'), 'utf8')));
  previews = await Promise.all([sPreview(ciEnv), sPreview({ ...ciEnv, PROME_ROUTE_REGION: 'cn-shanghai' }), sPreview({ ...ciEnv, PROME_ROUTE_TOKEN: 'plain-token' })]);
  console.info(`s preview: ${previews.map((r) => Math.round(r.ms)).join(', ')} ms`);
  [fn, shanghai] = previews.slice(0, 2).map((run) => {
    const { resources } = parsePreview(run);
    expect(Object.keys(resources)).toEqual(['router']);
    return v.parse(FcFunction, resources.router.props);
  }) as [FcFunction, FcFunction];
  priorToken = previews[2]!;
});

afterAll(removeTemporaryDirs);

describe('s.yaml as written', () => {
  it('is one fc3 function whose settings come from vars, and vars from PROME_ROUTE_* variables', () => {
    expect(Object.keys(raw.resources)).toEqual(['router']);
    const text = JSON.stringify(raw.resources);
    for (const [, name] of text.matchAll(/\$\{([^}]*)\}/g)) {
      expect(name, 'props use ${vars.x}').toMatch(/^vars\.\w+$/);
      expect(raw.vars).toHaveProperty(name!.slice('vars.'.length));
    }
    for (const [name, value] of Object.entries(raw.vars)) {
      expect(value, name).toMatch(/^\$\{env\('PROME_ROUTE_[A-Z_]+'(, '[^']*')?\)\}$/);
    }
  });

  it('every PROME_ROUTE_* variable it reads is documented in docs/deploy.md', async () => {
    const docs = await readFile(join(repoRoot, 'docs/deploy.md'), 'utf8');
    const names = [...JSON.stringify(raw.vars).matchAll(/env\('(PROME_ROUTE_[A-Z_]+)'/g)].map(([, name]) => name!);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(docs, name).toContain(name);
  });
});

describe('s.yaml as Serverless Devs renders it (s preview)', () => {
  it('with its background processes off: nothing it started outlives it', () => {
    for (const run of previews) expect(run.strays).toEqual([]);
  });

  it('is a Node.js 20 function whose code directory the build produced, exporting the handler', async () => {
    expect(fn.runtime).toBe('nodejs20');
    const [file, exported] = fn.handler.split('.') as [string, string];
    const path = join(repoRoot, fn.code, `${file}.js`);
    expect(existsSync(path), `${path}: npm run build (scripts/build.mjs) must produce it`).toBe(true);
    // FC's nodejs20 runtime loads a .js handler file with require (CommonJS). Loading makes no OSS call;
    // should that change, it goes to a closed port on this machine.
    const env = { PATH: process.env.PATH ?? '', ...fn.environmentVariables, SHARD_MAP_OSS_ENDPOINT: 'http://127.0.0.1:9' };
    const script = `const m = require(${JSON.stringify(path)}); console.log(typeof m[${JSON.stringify(exported)}]); process.exit(0);`;
    const type = await new Promise<string>((done, fail) => {
      execFile(process.execPath, ['-e', script], { env, timeout: 20_000 }, (error, stdout, stderr) =>
        error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout.trim()));
    });
    expect(type).toBe('function');
  });

  it('sizes one request per instance on the built-in runtime, within FC 3.0\'s resource rules', () => {
    expect(fcResourceProblems(fn)).toEqual([]);
    expect(fn.instanceConcurrency).toBeUndefined();
    expect(Number(fn.environmentVariables.ROUTER_TIMEOUT_MS)).toBeLessThan(fn.timeout * 1000);
    // Each instance takes one vSwitch address: the cap keeps a burst within the vSwitch.
    expect(fn.concurrencyConfig.reservedConcurrency).toBe(50);
  });

  it('the rules themselves: what s.yaml had before (20 requests per instance on nodejs20) is refused', () => {
    expect(fcResourceProblems({ runtime: 'nodejs20', cpu: 1, memorySize: 1024, diskSize: 512, instanceConcurrency: 20 }))
      .toEqual(['instanceConcurrency on the built-in runtime nodejs20: custom runtimes and containers only']);
    expect(fcResourceProblems({ runtime: 'custom.debian10', cpu: 1, memorySize: 1024, diskSize: 512, instanceConcurrency: 20 })).toEqual([]);
    expect(fcResourceProblems({ runtime: 'nodejs20', cpu: 0.33, memorySize: 1000, diskSize: 1024 })).toHaveLength(3);
    expect(fcResourceProblems({ runtime: 'nodejs20', cpu: 2, memorySize: 1024, diskSize: 512 })).toEqual(['0.5 GB per vCPU: between 1 and 4']);
  });

  it('runs in the VPC given by the environment', () => {
    expect(fn.vpcConfig).toEqual({
      vpcId: ciEnv.PROME_ROUTE_VPC_ID,
      vSwitchIds: [ciEnv.PROME_ROUTE_VSWITCH_ID],
      securityGroupId: ciEnv.PROME_ROUTE_SECURITY_GROUP_ID,
    });
    expect(fn.role).toBe(ciEnv.PROME_ROUTE_ROLE_ARN);
    expect(fn.logConfig).toMatchObject({ project: ciEnv.PROME_ROUTE_LOG_PROJECT, logstore: 'prome-route' });
  });

  it('has one anonymous HTTP trigger for GET and POST, and the router checks a bearer token read from OOS', () => {
    const [trigger] = fn.triggers;
    expect(trigger.triggerType).toBe('http');
    expect(trigger.triggerConfig.authType).toBe('anonymous');
    expect([...trigger.triggerConfig.methods].sort()).toEqual(['GET', 'POST']);
    expect(fn.environmentVariables).toMatchObject({ ROUTER_AUTH_TOKEN_OOS_PARAMETER: 'prome-route-prod-auth-token', ROUTER_AUTH_TOKEN_OOS_REGION: 'cn-hangzhou' });
    expect(fn.environmentVariables).not.toHaveProperty('ROUTER_AUTH_TOKEN');
  });

  it('reads the shard map from the OSS object, in the function region', () => {
    expect(fn.environmentVariables).toMatchObject({
      SHARD_MAP_OSS_BUCKET: ciEnv.PROME_ROUTE_SHARD_MAP_BUCKET,
      SHARD_MAP_OSS_KEY: 'prome-route/shards.json',
      SHARD_MAP_OSS_REGION: 'cn-hangzhou',
    });
    expect(Number(fn.environmentVariables.SHARD_MAP_TTL_SECONDS)).toBeGreaterThan(0);
    for (const other of ['SHARD_MAP_FILE', 'SHARD_MAP_SSM_PATH', 'SHARD_MAP_SSM_PARAMETER']) expect(fn.environmentVariables).not.toHaveProperty(other);
    expect(fn.region).toBe('cn-hangzhou');
  });

  it('deploys to another region with PROME_ROUTE_REGION, the map read there too', () => {
    expect(shanghai.region).toBe('cn-shanghai');
    expect(shanghai.environmentVariables.SHARD_MAP_OSS_REGION).toBe('cn-shanghai');
  });

  it('never puts the token itself in the function configuration, whatever the environment holds', () => {
    const text = priorToken.stdout;
    expect(priorToken.code).toBe(0);
    expect(text).not.toContain('plain-token');
    expect(JSON.stringify(fn)).not.toMatch(/ROUTER_AUTH_TOKEN"|PROME_ROUTE_TOKEN"/);
  });
});

describe('infra/aliyun', () => {
  it('ram-policy.json allows reading the map object and the token parameter, and writing the logstore, nothing else', async () => {
    const policy = JSON.parse(await readFile(join(repoRoot, 'infra/aliyun/ram-policy.json'), 'utf8'));
    expect(policy.Version).toBe('1');
    const grants = (policy.Statement as { Effect: string; Action: string[]; Resource: string[] }[]).map((s) => {
      expect(s.Effect).toBe('Allow');
      return { actions: s.Action, resources: s.Resource };
    });
    expect(grants).toEqual([
      { actions: ['oss:GetObject'], resources: [`acs:oss:*:*:${ciEnv.PROME_ROUTE_SHARD_MAP_BUCKET}/${fn.environmentVariables.SHARD_MAP_OSS_KEY}`] },
      // OOS keeps an encrypted parameter as the KMS secret oos/<name>: reading it takes both grants.
      { actions: ['oos:GetSecretParameter'], resources: [`acs:oos:${fn.region}:*:secretparameter/${fn.environmentVariables.ROUTER_AUTH_TOKEN_OOS_PARAMETER}`] },
      { actions: ['kms:GetSecretValue'], resources: [`acs:kms:${fn.region}:*:secret/oos/${fn.environmentVariables.ROUTER_AUTH_TOKEN_OOS_PARAMETER}`] },
      { actions: ['log:PostLogStoreLogs'], resources: [`acs:log:${fn.region}:*:project/${fn.logConfig.project}/logstore/${fn.logConfig.logstore}`] },
    ]);
  });

  it('ram-trust-policy.json lets Function Compute assume the role', async () => {
    const trust = JSON.parse(await readFile(join(repoRoot, 'infra/aliyun/ram-trust-policy.json'), 'utf8'));
    expect(trust.Statement).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }]);
  });
});

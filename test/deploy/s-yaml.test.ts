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
import { removeTemporaryDirs, repoRoot, runNodeCli, type Run } from './tools.ts';

/** What a CI "deployment" sets: every PROME_ROUTE_* variable s.yaml reads without a default. */
const ciEnv = {
  PROME_ROUTE_VPC_ID: 'vpc-ci0000000000000000',
  PROME_ROUTE_VSWITCH_ID: 'vsw-ci0000000000000000',
  PROME_ROUTE_SECURITY_GROUP_ID: 'sg-ci0000000000000000',
  PROME_ROUTE_SHARD_MAP_BUCKET: 'prome-route-config',
  PROME_ROUTE_ROLE_ARN: 'acs:ram::1234567890123456:role/prome-route-fc',
  PROME_ROUTE_LOG_PROJECT: 'prome-route-logs',
  PROME_ROUTE_TOKEN: 'ci-token',
};

/** Serverless Devs with a throwaway HOME; NODE_ENV=test stops it from starting its report and update daemons. */
const sPreview = (env: Record<string, string>) =>
  runNodeCli('node_modules/@serverless-devs/s/bin/s', ['preview', '-o', 'json'], { NODE_ENV: 'test', ...env });

const parsePreview = (run: Run) => {
  if (run.code !== 0) throw new Error(`s preview failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
};

// Names as FC 3.0 takes them: letters, digits, _ and -, not starting with a digit or -, at most 64.
const Name = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/));
const NonEmpty = v.pipe(v.string(), v.minLength(1));

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
  instanceConcurrency: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(100)),
  cpu: v.pipe(v.number(), v.minValue(0.05), v.maxValue(16)),
  memorySize: v.pipe(v.number(), v.integer(), v.multipleOf(64), v.minValue(128), v.maxValue(32768)),
  diskSize: v.picklist([512, 10240]),
  timeout: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86400)),
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
let withoutToken: Run;

beforeAll(async () => {
  raw = v.parse(SYaml, parse(await readFile(join(repoRoot, 's.yaml'), 'utf8')));
  const runs = await Promise.all([sPreview(ciEnv), sPreview({ ...ciEnv, PROME_ROUTE_REGION: 'cn-shanghai' }), sPreview({ ...ciEnv, PROME_ROUTE_TOKEN: '' })]);
  console.info(`s preview: ${runs.map((r) => Math.round(r.ms)).join(', ')} ms`);
  [fn, shanghai] = runs.slice(0, 2).map((run) => {
    const { resources } = parsePreview(run);
    expect(Object.keys(resources)).toEqual(['router']);
    return v.parse(FcFunction, resources.router.props);
  }) as [FcFunction, FcFunction];
  withoutToken = runs[2]!;
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

  it('takes many requests per instance, with memory, CPU and a timeout above the router deadline', () => {
    expect(fn.instanceConcurrency).toBeGreaterThan(1);
    // FC 3.0: between 1 and 4 GB of memory per vCPU.
    const gbPerCpu = fn.memorySize / 1024 / fn.cpu;
    expect(gbPerCpu).toBeGreaterThanOrEqual(1);
    expect(gbPerCpu).toBeLessThanOrEqual(4);
    expect(Number(fn.environmentVariables.ROUTER_TIMEOUT_MS)).toBeLessThan(fn.timeout * 1000);
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

  it('has one anonymous HTTP trigger for GET and POST, and the router checks a bearer token', () => {
    const [trigger] = fn.triggers;
    expect(trigger.triggerType).toBe('http');
    expect(trigger.triggerConfig.authType).toBe('anonymous');
    expect([...trigger.triggerConfig.methods].sort()).toEqual(['GET', 'POST']);
    expect(fn.environmentVariables.ROUTER_AUTH_TOKEN).toBe(ciEnv.PROME_ROUTE_TOKEN);
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

  it('refuses to render without a token, so an anonymous trigger never goes out unprotected', () => {
    expect(withoutToken.code).not.toBe(0);
    expect(withoutToken.stdout + withoutToken.stderr).toContain('PROME_ROUTE_TOKEN');
  });
});

describe('infra/aliyun', () => {
  it('ram-policy.json allows reading the map object and writing the logstore, nothing else', async () => {
    const policy = JSON.parse(await readFile(join(repoRoot, 'infra/aliyun/ram-policy.json'), 'utf8'));
    expect(policy.Version).toBe('1');
    const grants = (policy.Statement as { Effect: string; Action: string[]; Resource: string[] }[]).map((s) => {
      expect(s.Effect).toBe('Allow');
      return { actions: s.Action, resources: s.Resource };
    });
    expect(grants).toEqual([
      { actions: ['oss:GetObject'], resources: [`acs:oss:*:*:${ciEnv.PROME_ROUTE_SHARD_MAP_BUCKET}/${fn.environmentVariables.SHARD_MAP_OSS_KEY}`] },
      { actions: ['log:PostLogStoreLogs'], resources: [`acs:log:${fn.region}:*:project/${fn.logConfig.project}/logstore/${fn.logConfig.logstore}`] },
    ]);
  });

  it('ram-trust-policy.json lets Function Compute assume the role', async () => {
    const trust = JSON.parse(await readFile(join(repoRoot, 'infra/aliyun/ram-trust-policy.json'), 'utf8'));
    expect(trust.Statement).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }]);
  });
});

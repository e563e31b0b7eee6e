// serverless.yml, built offline: `osls package` renders the CloudFormation template that `osls deploy`
// would send, without credentials or network. The assertions read that template, not the YAML.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { shardMapFromEnv } from '../../lib/shards/env.ts';
import { useFakeSsm } from '../shards/fake-ssm.ts';
import { checkTemplate } from './cfn-spec.ts';
import { evaluateCondition, oslsPackage, removeTemporaryDirs, repoRoot, resolveIntrinsics, zipEntryNames, type Json, type Run } from './tools.ts';

type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, Json>; Outputs?: Record<string, Json> };
type Resource = { Type: string; Condition?: string; Properties: Record<string, any>; DependsOn?: unknown };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: Json; Condition?: Json };

// The values CloudFormation would put in for the pseudo parameters of a stack in eu-west-1.
const ACCOUNT = '111111111111';
const pseudo = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };
const HANDLER_FILE = 'dist/aws/index.mjs';

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const ofType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const resolved = (value: unknown) => resolveIntrinsics(value as Json, pseudo);

let main: Run & { dir: string };
let viaParams: Run & { dir: string };
let unconfigured: Run & { dir: string };
let documentLayout: Run & { dir: string };
let template: Template;
let paramsTemplate: Template;
let documentTemplate: Template;
let deployment: { vpcId: string; subnetIds: string; securityGroupId: string; ssmKmsKeyArn: string };

beforeAll(async () => {
  // test/global-setup.ts ran `npm run build`; osls packages what it produced.
  if (!existsSync(join(repoRoot, HANDLER_FILE))) throw new Error(`${HANDLER_FILE} is missing: npm run build (scripts/build.mjs) must produce it`);
  deployment = parse(await readFile(join(repoRoot, 'infra/aws/deployments/ci.eu-west-1.yml'), 'utf8'));
  [main, viaParams, unconfigured, documentLayout] = await Promise.all([
    oslsPackage(['--stage', 'ci', '--region', 'eu-west-1']),
    // No deployment file for this region: everything from --param, and no endpoint.
    oslsPackage(['--stage', 'ci', '--region', 'eu-central-1', '--param', 'vpcId=vpc-0aaaaaaaaaaaaaaaa',
      '--param', 'subnetIds=subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb,subnet-0cccccccccccccccc',
      '--param', 'securityGroupId=sg-0aaaaaaaaaaaaaaaa', '--param', 'ssmVpcEndpoint=none']),
    oslsPackage(['--stage', 'nowhere', '--region', 'eu-west-1']),
    oslsPackage(['--stage', 'ci', '--region', 'eu-west-1', '--param', 'shardMap=document']),
  ]);
  console.info(`osls package: ${Math.round(main.ms)} ms (four runs in parallel: ${[main, viaParams, unconfigured, documentLayout].map((r) => Math.round(r.ms)).join(', ')} ms)`);
  if (main.code !== 0) throw new Error(`osls package failed (${main.code}):\n${main.stdout}\n${main.stderr}`);
  if (viaParams.code !== 0) throw new Error(`osls package --param failed (${viaParams.code}):\n${viaParams.stdout}\n${viaParams.stderr}`);
  if (documentLayout.code !== 0) throw new Error(`osls package shardMap=document failed (${documentLayout.code}):\n${documentLayout.stdout}\n${documentLayout.stderr}`);
  const read = async (dir: string) => JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  [template, paramsTemplate, documentTemplate] = await Promise.all([read(main.dir), read(viaParams.dir), read(documentLayout.dir)]);
});

afterAll(removeTemporaryDirs);

describe('osls package --stage ci --region eu-west-1', () => {
  it('runs offline, without credentials, and leaves no process behind', () => {
    for (const run of [main, viaParams, documentLayout]) {
      expect(run.code).toBe(0);
      expect(run.strays).toEqual([]);
    }
  });

  it('renders a template that matches the CloudFormation resource specification', async () => {
    expect(await checkTemplate(template as unknown as Json)).toEqual([]);
    expect(await checkTemplate(paramsTemplate as unknown as Json)).toEqual([]);
    expect(await checkTemplate(documentTemplate as unknown as Json)).toEqual([]);
  });

  it('ships the bundle and nothing else', async () => {
    const names = zipEntryNames(await readFile(join(main.dir, 'router.zip')));
    expect(names).toContain(HANDLER_FILE);
    expect(names.filter((name) => !name.startsWith('dist/aws/'))).toEqual([]);
  });

  it('whose handler loads as Lambda loads it and exports a function', async () => {
    const fn = template.Resources.RouterLambdaFunction!.Properties;
    const [file, exported] = [fn.Handler.slice(0, fn.Handler.lastIndexOf('.')), fn.Handler.slice(fn.Handler.lastIndexOf('.') + 1)];
    expect(`${file}.mjs`).toBe(HANDLER_FILE);
    const script = `const m = await import(${JSON.stringify(join(repoRoot, HANDLER_FILE))}); console.log(typeof m[${JSON.stringify(exported)}]); process.exit(0);`;
    // Loading makes no AWS call; should that change, an SSM call goes to a closed port on this machine.
    const env = { PATH: process.env.PATH ?? '', ...fn.Environment.Variables, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9' };
    const type = await new Promise<string>((done, fail) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 20_000 },
        (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout.trim())));
    });
    expect(type).toBe('function');
  });

  it('is a Node.js 24 function with memory and a timeout API Gateway can wait for', () => {
    const fn = template.Resources.RouterLambdaFunction!;
    expect(fn.Type).toBe('AWS::Lambda::Function');
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
    expect(fn.Properties.Handler).toBe('dist/aws/index.handler');
    expect(fn.Properties.MemorySize).toBeGreaterThanOrEqual(256);
    expect(fn.Properties.Timeout).toBeLessThanOrEqual(29);
    const env = fn.Properties.Environment.Variables;
    expect(Number(env.ROUTER_TIMEOUT_MS)).toBeLessThan(fn.Properties.Timeout * 1000);
    expect(env.SHARD_MAP_SSM_PATH).toBe('/prome-route/ci/shards');
    expect(env.ROUTER_AUTH_TOKEN_SSM_PARAMETER).toBe('/prome-route/ci/auth-token');
    expect(Number(env.SHARD_MAP_TTL_SECONDS)).toBeGreaterThan(0);
    expect(env.SHARD_MAP_SSM_PARAMETER).toBeUndefined();
    expect(env.ROUTER_AUTH_TOKEN).toBeUndefined();
  });

  it('runs in the VPC of the deployment file', () => {
    const vpc = resolved(template.Resources.RouterLambdaFunction!.Properties.VpcConfig);
    expect(vpc).toEqual({ SubnetIds: deployment.subnetIds.split(','), SecurityGroupIds: [deployment.securityGroupId] });
  });

  it('has an execution role that reads only its own SSM parameters, and no "*" resource', () => {
    const role = template.Resources.IamRoleLambdaExecution!;
    const env = template.Resources.RouterLambdaFunction!.Properties.Environment.Variables;
    expect(resolved(template.Resources.RouterLambdaFunction!.Properties.Role)).toEqual({ 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] });
    // The only managed policy: ENIs for the VPC (and logs), AWS's own.
    expect(resolved(role.Properties.ManagedPolicyArns)).toEqual(['arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']);
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement) as Statement[];
    const parameterArn = (name: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${name}`;
    const allowed = new Set([parameterArn(env.SHARD_MAP_SSM_PATH), parameterArn(`${env.SHARD_MAP_SSM_PATH}/*`), parameterArn(env.ROUTER_AUTH_TOKEN_SSM_PARAMETER)]);
    const ssmActions = new Set<string>();
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      const resources = list(resolved(statement.Resource)) as string[];
      for (const action of list(statement.Action)) {
        expect(action).not.toContain('*');
        const service = action.split(':')[0];
        expect(['logs', 'ssm'], action).toContain(service);
        if (service === 'ssm') ssmActions.add(action);
      }
      for (const resource of resources) {
        expect(typeof resource).toBe('string');
        expect(resource).not.toBe('*');
        if (list(statement.Action).every((a) => a.startsWith('ssm:'))) expect(allowed, resource).toContain(resource);
        else expect(resource.startsWith(`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/prome-route-ci`), resource).toBe(true);
      }
    }
    expect([...ssmActions].sort()).toEqual(['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath']);
    // What the function calls is allowed: GetParametersByPath on the path, GetParameter on the token.
    const grants = (action: string, arn: string) =>
      statements.some((s) => list(s.Action).includes(action) && (list(resolved(s.Resource)) as string[]).includes(arn));
    expect(grants('ssm:GetParametersByPath', parameterArn(env.SHARD_MAP_SSM_PATH))).toBe(true);
    expect(grants('ssm:GetParameter', parameterArn(env.ROUTER_AUTH_TOKEN_SSM_PARAMETER))).toBe(true);
  });

  it('grants kms:Decrypt on the configured key only, through SSM only, and only when a key is configured', () => {
    const policies = ofType(template, 'AWS::IAM::Policy');
    expect(policies.map(([id]) => id)).toEqual(['SsmKmsDecryptPolicy']);
    const [, policy] = policies[0]!;
    expect(policy.Properties.Roles).toEqual([{ Ref: 'IamRoleLambdaExecution' }]);
    expect(resolved(policy.Properties.PolicyDocument.Statement)).toEqual([{
      Sid: 'DecryptSsmParametersViaSsm', Effect: 'Allow', Action: 'kms:Decrypt', Resource: deployment.ssmKmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' } },
    }]);
    expect(evaluateCondition(template.Conditions![policy.Condition!]!, template.Conditions!)).toBe(true);
    // Without a key (the --param deployment), the condition leaves the policy out.
    const [[, withoutKey]] = ofType(paramsTemplate, 'AWS::IAM::Policy') as [[string, Resource]];
    expect(evaluateCondition(paramsTemplate.Conditions![withoutKey.Condition!]!, paramsTemplate.Conditions!)).toBe(false);
  });

  it('routes GET and POST /api/v1/{proxy+} and GET /-/{proxy+} of an HTTP API to the function', () => {
    const routes = ofType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey).sort();
    expect(routes).toEqual(['GET /-/{proxy+}', 'GET /api/v1/{proxy+}', 'POST /api/v1/{proxy+}']);
    const integrations = ofType(template, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(1);
    const [[integrationId, integration]] = integrations as [[string, Resource]];
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: { 'Fn::GetAtt': ['RouterLambdaFunction', 'Arn'] } });
    expect(integration.Properties.TimeoutInMillis).toBeLessThanOrEqual(30_000);
    for (const [, route] of ofType(template, 'AWS::ApiGatewayV2::Route')) {
      expect(route.Properties.Target).toEqual({ 'Fn::Join': ['/', ['integrations', { Ref: integrationId }]] });
    }
    expect(ofType(template, 'AWS::ApiGatewayV2::Api').map(([, r]) => r.Properties.ProtocolType)).toEqual(['HTTP']);
    const permission = ofType(template, 'AWS::Lambda::Permission').map(([, r]) => r.Properties);
    expect(permission).toEqual([expect.objectContaining({ Principal: 'apigateway.amazonaws.com', Action: 'lambda:InvokeFunction' })]);
  });

  it('keeps function and access logs for 14 days', () => {
    const groups = ofType(template, 'AWS::Logs::LogGroup').map(([, r]) => r.Properties);
    expect(groups.map((g) => g.LogGroupName).sort()).toEqual(['/aws/http-api/prome-route-ci', '/aws/lambda/prome-route-ci-router']);
    for (const group of groups) expect(group.RetentionInDays).toBe(14);
  });

  it('creates an SSM interface endpoint with private DNS in the function subnets, open on 443 to the function only', () => {
    const endpoints = ofType(template, 'AWS::EC2::VPCEndpoint');
    expect(endpoints).toHaveLength(1);
    const [[, endpoint]] = endpoints as [[string, Resource]];
    expect(evaluateCondition(template.Conditions![endpoint.Condition!]!, template.Conditions!)).toBe(true);
    expect(resolved(endpoint.Properties)).toEqual({
      VpcEndpointType: 'Interface',
      ServiceName: 'com.amazonaws.eu-west-1.ssm',
      VpcId: deployment.vpcId,
      SubnetIds: resolved(template.Resources.RouterLambdaFunction!.Properties.VpcConfig.SubnetIds),
      SecurityGroupIds: [{ Ref: 'SsmVpcEndpointSecurityGroup' }],
      PrivateDnsEnabled: true,
    });
    const group = template.Resources.SsmVpcEndpointSecurityGroup!;
    expect(group.Condition).toBe(endpoint.Condition);
    expect(group.Properties.VpcId).toBe(deployment.vpcId);
    expect(group.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: deployment.securityGroupId }),
    ]);
  });
});

describe('the IAM propagation race', () => {
  it('makes the function wait for the KMS grant when there is one (a handle that references it only then)', () => {
    expect(list(template.Resources.RouterLambdaFunction!.DependsOn as string | string[])).toContain('SsmKmsDecryptPolicyReady');
    const handle = template.Resources.SsmKmsDecryptPolicyReady as unknown as { Type: string; Metadata: { Policy: Json } };
    expect(handle.Type).toBe('AWS::CloudFormation::WaitConditionHandle');
    expect(handle.Metadata.Policy).toEqual({ 'Fn::If': ['HasSsmKmsKey', { Ref: 'SsmKmsDecryptPolicy' }, { Ref: 'AWS::NoValue' }] });
  });
});

describe('osls package with the VPC given as --param and ssmVpcEndpoint=none', () => {
  it('uses the parameters', () => {
    expect(resolved(paramsTemplate.Resources.RouterLambdaFunction!.Properties.VpcConfig)).toEqual({
      SubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb', 'subnet-0cccccccccccccccc'],
      SecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa'],
    });
  });

  it('creates no endpoint', () => {
    for (const [, resource] of [...ofType(paramsTemplate, 'AWS::EC2::VPCEndpoint'), ...ofType(paramsTemplate, 'AWS::EC2::SecurityGroup')]) {
      expect(evaluateCondition(paramsTemplate.Conditions![resource.Condition!]!, paramsTemplate.Conditions!)).toBe(false);
    }
  });
});

describe('osls package with shardMap=document (the layout that holds tenants)', () => {
  const ssm = useFakeSsm();
  const env = () => documentTemplate.Resources.RouterLambdaFunction!.Properties.Environment.Variables as Record<string, string>;

  it('reads the whole map from one parameter, and nothing per shard', () => {
    expect(env().SHARD_MAP_SSM_PARAMETER).toBe('/prome-route/ci/shard-map');
    expect(env()).not.toHaveProperty('SHARD_MAP_SSM_PATH');
    expect(env()).not.toHaveProperty('SHARD_LABEL');
    expect(env().ROUTER_AUTH_TOKEN_SSM_PARAMETER).toBe('/prome-route/ci/auth-token');
    expect(resolved(documentTemplate.Outputs!.ShardMap)).toMatchObject({ Value: '/prome-route/ci/shard-map' });
  });

  it('may read exactly that parameter and the token, with GetParameter only', () => {
    const statements = (documentTemplate.Resources.IamRoleLambdaExecution!.Properties.Policies as any[])
      .flatMap((p) => p.PolicyDocument.Statement as Statement[])
      .filter((s) => list(s.Action).some((a) => a.startsWith('ssm:')));
    const parameterArn = (name: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${name}`;
    expect(statements.map((s) => ({ Action: list(s.Action), Resource: resolved(s.Resource) }))).toEqual([
      { Action: ['ssm:GetParameter'], Resource: [parameterArn('/prome-route/ci/shard-map'), parameterArn('/prome-route/ci/auth-token')] },
    ]);
  });

  it('gives the function an environment that loads a map with tenants from that parameter', async () => {
    const map = { shards: { a: 'http://10.0.0.1:9090', b: 'http://10.0.0.2:9090' }, tenants: { payments: { tokenSha256: 'ab'.repeat(32), shards: ['b'] } } };
    ssm.fake.put(env().SHARD_MAP_SSM_PARAMETER!, JSON.stringify(map));
    const loaded = await shardMapFromEnv(env()).get();
    expect([...loaded.shards.keys()]).toEqual(['a', 'b']);
    expect([...(loaded.tenants?.keys() ?? [])]).toEqual(['payments']);
  });
});

describe('osls package without a deployment file or parameters', () => {
  it('fails, naming the missing VPC settings', () => {
    expect(unconfigured.code).not.toBe(0);
    const output = unconfigured.stdout + unconfigured.stderr;
    for (const name of ['custom.vpcId', 'custom.subnetIds', 'custom.securityGroupId']) expect(output).toContain(name);
  });
});

describe('infra/aws: the standalone documents say what serverless.yml deploys', () => {
  it('iam-policy.json is the role\'s SSM statements for stage prod', async () => {
    const document = JSON.parse(await readFile(join(repoRoot, 'infra/aws/iam-policy.json'), 'utf8'));
    const prod = { ...pseudo, 'AWS::AccountId': '123456789012' };
    const fromTemplate = (template.Resources.IamRoleLambdaExecution!.Properties.Policies as any[])
      .flatMap((p) => p.PolicyDocument.Statement as Statement[])
      .filter((s) => list(s.Action).every((a) => a.startsWith('ssm:')))
      .map((s) => JSON.parse(JSON.stringify(resolveIntrinsics(s as unknown as Json, prod)).replaceAll('/prome-route/ci/', '/prome-route/prod/')));
    expect(document).toEqual({ Version: '2012-10-17', Statement: fromTemplate });
  });

  it('iam-policy-kms.json is the conditional kms:Decrypt statement', async () => {
    const document = JSON.parse(await readFile(join(repoRoot, 'infra/aws/iam-policy-kms.json'), 'utf8'));
    const [statement] = document.Statement;
    const fromTemplate = template.Resources.SsmKmsDecryptPolicy!.Properties.PolicyDocument.Statement[0];
    expect({ ...statement, Resource: 'key' }).toEqual({ ...(resolved(fromTemplate) as object), Resource: 'key' });
    expect(statement.Resource).toMatch(/^arn:aws:kms:eu-west-1:\d{12}:key\/[0-9a-f-]+$/);
  });

  it('ssm-vpc-endpoint.yml creates the same endpoint and security group', async () => {
    const standalone = parse(await readFile(join(repoRoot, 'infra/aws/ssm-vpc-endpoint.yml'), 'utf8')) as Template;
    expect(await checkTemplate(standalone as unknown as Json)).toEqual([]);
    const params = { ...pseudo, VpcId: deployment.vpcId, FunctionSecurityGroupId: deployment.securityGroupId };
    const endpoint = resolveIntrinsics(standalone.Resources.SsmVpcEndpoint as unknown as Json, params) as unknown as Resource;
    const group = resolveIntrinsics(standalone.Resources.SsmVpcEndpointSecurityGroup as unknown as Json, params) as unknown as Resource;
    const { SubnetIds: _a, ...fromTemplate } = resolved(template.Resources.SsmVpcEndpoint!.Properties) as Record<string, Json>;
    const { SubnetIds, ...fromStandalone } = endpoint.Properties;
    expect(SubnetIds).toEqual({ Ref: 'SubnetIds' });
    expect(fromStandalone).toEqual(fromTemplate);
    expect(group.Properties.SecurityGroupIngress).toEqual(template.Resources.SsmVpcEndpointSecurityGroup!.Properties.SecurityGroupIngress);
    expect(Object.keys(standalone.Resources).sort()).toEqual(['SsmVpcEndpoint', 'SsmVpcEndpointSecurityGroup']);
  });
});

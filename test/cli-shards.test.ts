// `prome-route shards validate|diff|push`: the bundled CLI in a child process, with the AWS SDK and
// ali-oss pointed at the local SSM and OSS stand-ins; what it wrote is read back by the router's own
// shard map sources.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { shardMapFromEnv } from '../lib/shards/env.ts';
import { loadShardMapFile } from '../lib/shards/file.ts';
import { ossObjectSource } from '../lib/shards/oss.ts';
import type { ShardMap } from '../lib/shards/schema.ts';
import { REPO_ROOT } from './e2e/harness/corpus.ts';
import { startFakeOss, type FakeOss } from './shards/fake-oss.ts';
import { startFakeSsm, type FakeSsm } from './shards/fake-ssm.ts';

const run = promisify(execFile);
let dir: string;
let ssm: FakeSsm;
let oss: FakeOss;

/** What the CLI sees: the fakes' endpoints and test credentials, and nothing of the machine's own AWS setup. */
function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The SDK's notice (on every run under Node 20) that its releases from 2027 on need Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SHARD_MAP_OSS_ENDPOINT: oss.url,
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI.operator',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'operator-secret',
  };
}

/** `prome-route shards ARGS`. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return promeRoute(['shards', ...args], env);
}

async function promeRoute(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli.mjs', ...args], { cwd: REPO_ROOT, env: { ...cliEnv(), ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const file = (name: string) => path.join(dir, name);

const MAP = {
  shardLabel: 'cluster',
  shards: {
    a: { urls: ['http://10.0.1.10:9090', 'http://10.0.1.11:9090'], headers: { Authorization: 'Bearer secret-a' }, timeoutMs: 20000 },
    b: 'http://10.1.1.10:9090/',
    c: { urls: ['https://c.example/prometheus'], hedgeAfterMs: 500 },
  },
};

/** MAP edited: d added, c removed, a with another replica, a new token, a header more and no timeout, b unchanged. */
const CHANGED = {
  shardLabel: 'cluster',
  shards: {
    a: { urls: ['http://10.0.1.10:9090', 'http://10.0.1.12:9090'], headers: { Authorization: 'Bearer secret-new', 'X-Scope-OrgID': 'org-secret' } },
    b: 'http://10.1.1.10:9090',
    d: 'http://10.3.1.10:9090',
  },
};

const load = async (name: string): Promise<ShardMap> => (await loadShardMapFile(file(name))).map;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-cli-shards-'));
  [ssm, oss] = await Promise.all([startFakeSsm(), startFakeOss()]);
  oss.keys.set('LTAI.operator', { secret: 'operator-secret' });
  // The router's sources read back in this process, through the same SDKs.
  vi.stubEnv('AWS_ENDPOINT_URL_SSM', ssm.url);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_SESSION_TOKEN', 'test');
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  await writeFile(file('map.json'), JSON.stringify(MAP, null, 2));
  await writeFile(file('changed.json'), JSON.stringify(CHANGED));
  // MAP again, in YAML.
  await writeFile(
    file('map.yaml'),
    [
      'shards:',
      '  a:',
      '    urls: [http://10.0.1.10:9090, http://10.0.1.11:9090]',
      '    headers: { Authorization: Bearer secret-a }',
      '    timeoutMs: 20000',
      '  b: http://10.1.1.10:9090',
      '  c: { urls: [https://c.example/prometheus], hedgeAfterMs: 500 }',
      '',
    ].join('\n'),
  );
  await writeFile(file('upstream.yaml'), 'replace_label_name: region\nprome_servers:\n  eu: "10.0.0.1:9090"\nhttp:\n  listen_addr: ":8080"\n');
  await writeFile(file('bad.json'), JSON.stringify({ shardLabel: '1x', shards: { a: 'ftp://x', b: { urls: [], header: {} } } }));
  await writeFile(file('spaced.json'), JSON.stringify({ shards: { 'eu west': 'http://10.0.0.1:9090', ok: 'http://10.0.0.2:9090' } }));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([ssm.close(), oss.close()]);
  await rm(dir, { recursive: true, force: true });
});

const ssmWrites = () => ssm.requests.filter(({ target }) => target === 'AmazonSSM.PutParameter' || target === 'AmazonSSM.DeleteParameter');
const ossWrites = () => oss.requests.filter(({ method }) => method !== 'GET');

describe('shards validate', () => {
  it('prints one line per shard, header names without their values', async () => {
    const { code, stdout, stderr } = await cli(['validate', file('map.json')]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(
      [
        `${file('map.json')}: shard label cluster, 3 shards`,
        '  a: http://10.0.1.10:9090, http://10.0.1.11:9090; headers Authorization; timeoutMs 20000',
        '  b: http://10.1.1.10:9090',
        '  c: https://c.example/prometheus; hedgeAfterMs 500',
        '',
      ].join('\n'),
    );
  });

  it('reads YAML and the upstream format', async () => {
    const { code, stdout } = await cli(['validate', file('map.yaml'), file('upstream.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${file('map.yaml')}: shard label cluster, 3 shards\n`);
    expect(stdout).toContain(`${file('upstream.yaml')}: shard label region, 1 shard, listen :8080\n  eu: http://10.0.0.1:9090\n`);
  });

  it('lists every problem and exits 2, still checking the other files', async () => {
    const { code, stdout, stderr } = await cli(['validate', file('bad.json'), file('map.json')]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      [
        `prome-route: invalid shard map ${file('bad.json')}:`,
        '  - shardLabel: must be a valid label name, got "1x"',
        '  - shards.a: must be an absolute http(s) URL, got "ftp://x"',
        '  - shards.b.urls: must list at least one URL',
        '  - shards.b.header: unknown key, expected one of urls, headers, timeoutMs, hedgeAfterMs, replicas',
        '',
      ].join('\n'),
    );
    expect(stdout).toContain(`${file('map.json')}: shard label cluster, 3 shards`);
  });

  it('names a missing file', async () => {
    const { code, stderr } = await cli(['validate', file('nope.json')]);
    expect(code).toBe(2);
    expect(stderr).toBe(`prome-route: cannot read shard map ${file('nope.json')}: no such file\n`);
  });
});

describe('shards push --ssm (one parameter holding the document)', () => {
  it('writes the JSON document, a SecureString as it holds headers, which the router source reads back', async () => {
    const { code, stdout, stderr } = await cli(['push', file('map.yaml'), '--ssm', '/cli/map']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const stored = ssm.get('/cli/map');
    expect(stored).toMatchObject({ type: 'SecureString', version: 1, keyId: 'alias/aws/ssm' });
    expect(JSON.parse(stored!.value)).toEqual({ ...MAP, shards: { ...MAP.shards, b: 'http://10.1.1.10:9090' } });
    expect(stdout).toBe(
      [
        `wrote SSM parameter /cli/map (SecureString, version 1, ${Buffer.byteLength(stored!.value)} bytes) from ${file('map.yaml')}: shard label cluster, 3 shards`,
        '  a: http://10.0.1.10:9090, http://10.0.1.11:9090; headers Authorization; timeoutMs 20000',
        '  b: http://10.1.1.10:9090',
        '  c: https://c.example/prometheus; hedgeAfterMs 500',
        '',
      ].join('\n'),
    );
    expect(stdout).not.toContain('secret-a');

    const readBack = await shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/cli/map' }).get();
    expect(readBack).toEqual(await load('map.json'));
  });

  it('writes a String when no shard has headers, with Overwrite, and converts the upstream format', async () => {
    ssm.put('/cli/upstream', 'http://stale');
    const { code, stdout } = await cli(['push', file('upstream.yaml'), '--ssm', '/cli/upstream']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^wrote SSM parameter \/cli\/upstream \(String, version 2, \d+ bytes\)/);
    expect(ssm.get('/cli/upstream')).toMatchObject({ type: 'String', value: '{"shardLabel":"region","shards":{"eu":"http://10.0.0.1:9090"}}' });
    const put = ssm.requests.findLast(({ target }) => target === 'AmazonSSM.PutParameter');
    expect(put?.body).toMatchObject({ Name: '/cli/upstream', Type: 'String', Overwrite: true });
    expect(put?.body).not.toHaveProperty('KeyId');
  });

  it('encrypts with the given KMS key', async () => {
    const { code } = await cli(['push', file('upstream.yaml'), '--ssm', '/cli/kms', '--secure', '--kms-key-id', 'alias/prome-route']);
    expect(code).toBe(0);
    expect(ssm.get('/cli/kms')).toMatchObject({ type: 'SecureString', keyId: 'alias/prome-route' });
  });
});

describe('shards push --ssm-path (one parameter per shard)', () => {
  it('writes new and changed shards, leaves unchanged ones, reports stale ones, and deletes them with --prune', async () => {
    ssm.put('/cli/shards/b', 'http://10.1.1.10:9090'); // as the map has it
    ssm.put('/cli/shards/c', 'http://old-c:9090'); // changed by the map
    ssm.put('/cli/shards/gone', 'http://10.9.9.9:9090'); // not in the map
    ssm.put('/cli/shards/deeper/x', 'http://not-a-shard'); // below the level read: left alone

    const first = await cli(['push', file('map.json'), '--ssm-path', '/cli/shards/']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      [
        'added     /cli/shards/a (SecureString, version 1): http://10.0.1.10:9090, http://10.0.1.11:9090; headers Authorization; timeoutMs 20000',
        'unchanged /cli/shards/b',
        'changed   /cli/shards/c (String, version 2): https://c.example/prometheus; hedgeAfterMs 500',
        `stale     /cli/shards/gone: no shard of ${file('map.json')}; the functions still route to it (--prune deletes it)`,
        'SSM path /cli/shards: 1 added, 1 changed, 1 unchanged, 1 stale',
        '',
      ].join('\n'),
    );
    expect(ssm.get('/cli/shards/a')).toMatchObject({
      type: 'SecureString',
      value: '{"urls":["http://10.0.1.10:9090","http://10.0.1.11:9090"],"headers":{"Authorization":"Bearer secret-a"},"timeoutMs":20000}',
    });
    expect(ssm.get('/cli/shards/b')).toMatchObject({ version: 1 }); // not written again
    expect(ssm.get('/cli/shards/c')).toMatchObject({ type: 'String', value: '{"urls":["https://c.example/prometheus"],"hedgeAfterMs":500}' });
    expect(ssm.get('/cli/shards/gone')).toBeDefined();

    // Until pruned, the router still sees the stale shard.
    const before = await shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/cli/shards' }).get();
    expect([...before.shards.keys()].sort()).toEqual(['a', 'b', 'c', 'gone']);

    const writes = ssmWrites().length;
    const pruned = await cli(['push', file('map.json'), '--ssm-path', '/cli/shards', '--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toBe(
      [
        'unchanged /cli/shards/a',
        'unchanged /cli/shards/b',
        'unchanged /cli/shards/c',
        'deleted   /cli/shards/gone',
        'SSM path /cli/shards: 3 unchanged, 1 deleted',
        '',
      ].join('\n'),
    );
    expect(ssmWrites().slice(writes)).toEqual([{ target: 'AmazonSSM.DeleteParameter', body: { Name: '/cli/shards/gone' }, status: 200 }]);
    expect(ssm.names().filter((name) => name.startsWith('/cli/shards/'))).toEqual(['/cli/shards/a', '/cli/shards/b', '/cli/shards/c', '/cli/shards/deeper/x']);

    const after = await shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/cli/shards' }).get();
    expect(after).toEqual(await load('map.json'));
  });

  it('says that the shard label must be set on the function', async () => {
    const { code, stdout } = await cli(['push', file('upstream.yaml'), '--ssm-path', '/cli/regions']);
    expect(code).toBe(0);
    expect(stdout).toContain("note: an SSM path holds no shard label: set the function's SHARD_LABEL to region");
    expect(ssm.get('/cli/regions/eu')).toMatchObject({ type: 'String', value: 'http://10.0.0.1:9090' });
  });

  it('refuses shard names that cannot be parameter names before writing anything', async () => {
    const writes = ssmWrites().length;
    const { code, stderr } = await cli(['push', file('spaced.json'), '--ssm-path', '/cli/spaced']);
    expect(code).toBe(2);
    expect(stderr).toContain('shards["eu west"]: not a valid SSM parameter name');
    expect(ssmWrites()).toHaveLength(writes);
    expect(ssm.get('/cli/spaced/ok')).toBeUndefined();
  });
});

describe('shards push --oss', () => {
  it('writes the JSON document, signed, which the OSS source reads back', async () => {
    const { code, stdout, stderr } = await cli(['push', file('map.yaml'), '--oss', 'maps/prod/shards.json']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const stored = oss.get('maps', 'prod/shards.json');
    expect(stored?.contentType).toBe('application/json');
    expect(JSON.parse(stored!.content)).toEqual({ ...MAP, shards: { ...MAP.shards, b: 'http://10.1.1.10:9090' } });
    expect(stdout.split('\n', 1)[0]).toBe(
      `wrote oss://maps/prod/shards.json (application/json, ${Buffer.byteLength(stored!.content)} bytes, ETag ${stored!.etag}) from ${file('map.yaml')}: shard label cluster, 3 shards`,
    );
    expect(ossWrites().at(-1)).toEqual({ method: 'PUT', bucket: 'maps', key: 'prod/shards.json', status: 200 });

    const source = ossObjectSource({
      bucket: 'maps',
      key: 'prod/shards.json',
      endpoint: oss.url,
      credentials: () => ({ accessKeyId: 'LTAI.operator', accessKeySecret: 'operator-secret' }),
    });
    expect(await source.read()).toEqual(await load('map.json'));
  });

  it('accepts oss://BUCKET/KEY and reports a refused write with exit 1', async () => {
    const { code, stderr } = await cli(['push', file('map.json'), '--oss', 'oss://maps/denied.json'], { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^prome-route: cannot write oss:\/\/maps\/denied\.json: 403 SignatureDoesNotMatch: /);
    expect(oss.get('maps', 'denied.json')).toBeUndefined();
  });

  it('says which settings are missing', async () => {
    const noEndpoint = await cli(['push', file('map.json'), '--oss', 'maps/x.json'], { SHARD_MAP_OSS_ENDPOINT: '' });
    expect(noEndpoint).toMatchObject({ code: 2, stderr: 'prome-route: no OSS region: set SHARD_MAP_OSS_REGION (e.g. cn-hangzhou) or SHARD_MAP_OSS_ENDPOINT\n' });
    const noKey = await cli(['push', file('map.json'), '--oss', 'maps/x.json'], { ALIBABA_CLOUD_ACCESS_KEY_ID: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('cannot write oss://maps/x.json: no OSS credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  });
});

describe('shards push with an invalid map', () => {
  it.each([
    ['--ssm', '/cli/invalid'],
    ['--ssm-path', '/cli/invalid-path'],
    ['--oss', 'maps/invalid.json'],
  ])('writes nothing to %s', async (option, target) => {
    const [ssmBefore, ossBefore] = [ssm.requests.length, oss.requests.length];
    const { code, stdout, stderr } = await cli(['push', file('bad.json'), option, target]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`prome-route: invalid shard map ${file('bad.json')}:\n  - shardLabel: must be a valid label name, got "1x"\n`);
    // Not written, and not even asked.
    expect(ssm.requests.slice(ssmBefore)).toEqual([]);
    expect(oss.requests.slice(ossBefore)).toEqual([]);
    expect(ssm.names().filter((name) => name.startsWith('/cli/invalid'))).toEqual([]);
    expect(oss.get('maps', 'invalid.json')).toBeUndefined();
  });
});

describe('shards diff', () => {
  it('exits 0 when the map in force is the same, whatever format it was written in', async () => {
    await cli(['push', file('map.json'), '--ssm', '/cli/diff']);
    const same = await cli(['diff', file('map.yaml'), '--ssm', '/cli/diff']);
    expect(same).toEqual({ code: 0, stdout: `no differences: ${file('map.yaml')} and SSM parameter /cli/diff hold the same map\n`, stderr: '' });
    expect((await cli(['diff', file('map.yaml'), file('map.json')])).code).toBe(0);
  });

  it('exits 1 and lists each change, never a header value', async () => {
    await cli(['push', file('map.json'), '--ssm', '/cli/diff2']);
    const { code, stdout, stderr } = await cli(['diff', file('changed.json'), '--ssm', '/cli/diff2']);
    expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
    expect(stdout).toBe(
      [
        '--- SSM parameter /cli/diff2 (in force)',
        `+++ ${file('changed.json')}`,
        '+ d: http://10.3.1.10:9090',
        '- c: https://c.example/prometheus; hedgeAfterMs 500',
        '~ a: urls http://10.0.1.10:9090, http://10.0.1.11:9090 -> http://10.0.1.10:9090, http://10.0.1.12:9090',
        '~ a: header X-Scope-OrgID added (value not shown)',
        '~ a: header Authorization changed (value not shown)',
        '~ a: timeoutMs 20000 -> none',
        '3 shards: 1 added, 1 removed, 1 changed',
        '',
      ].join('\n'),
    );
    expect(stdout).not.toMatch(/secret/);
  });

  it('compares with an OSS object, a file and an SSM path, and reports a changed shard label', async () => {
    await cli(['push', file('map.json'), '--oss', 'maps/diff.json']);
    const fromOss = await cli(['diff', file('changed.json'), '--oss', 'maps/diff.json']);
    expect(fromOss.code).toBe(1);
    expect(fromOss.stdout).toContain('--- oss://maps/diff.json (in force)\n');

    const relabelled = await cli(['diff', file('upstream.yaml'), file('map.json')]);
    expect(relabelled.code).toBe(1);
    expect(relabelled.stdout).toContain('~ shard label: cluster -> region\n+ eu: http://10.0.0.1:9090\n- a: ');

    // An SSM path carries no label: compared only when the function's is given.
    await cli(['push', file('upstream.yaml'), '--ssm-path', '/cli/diff-path']);
    expect((await cli(['diff', file('upstream.yaml'), '--ssm', '/cli/diff-path/'])).code).toBe(0);
    const label = await cli(['diff', file('upstream.yaml'), '--ssm-path', '/cli/diff-path', '--shard-label', 'cluster']);
    expect(label).toMatchObject({ code: 1, stdout: expect.stringContaining('~ shard label: cluster -> region\n') });
  });

  it('exits 2 on errors: an invalid FILE, a missing map in force, usage', async () => {
    const invalid = await cli(['diff', file('bad.json'), '--ssm', '/cli/diff']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('shards.a: must be an absolute http(s) URL, got "ftp://x"');

    const missing = await cli(['diff', file('map.json'), '--ssm', '/cli/not-there']);
    expect(missing).toMatchObject({ code: 2, stderr: 'prome-route: cannot read shard map SSM parameter /cli/not-there: ParameterNotFound\n' });

    const invalidInForce = await cli(['diff', file('map.json'), file('bad.json')]);
    expect(invalidInForce.code).toBe(2);

    const noTarget = await cli(['diff', file('map.json')]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('shards diff takes exactly one of --ssm NAME, --ssm-path PATH, --oss BUCKET/KEY or OTHERFILE');
  });
});

describe('tenants', () => {
  /** `prome-route tenants add NAME --shards LIST`: the token and the entry it prints. */
  async function addTenant(name: string, shards: string): Promise<{ token: string; entry: { tokenSha256: string; shards: string[] }; stdout: string }> {
    const { code, stdout, stderr } = await promeRoute(['tenants', 'add', name, '--shards', shards]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.split('\n');
    const token = lines[lines.findIndex((line) => line.startsWith('token for tenant')) + 2]!.trim();
    const entry = JSON.parse(`{${lines.at(-2)!.trim()}}`) as Record<string, { tokenSha256: string; shards: string[] }>;
    return { token, entry: entry[name]!, stdout };
  }

  it('tenants add prints a new random token once and the entry, which holds only its sha256', async () => {
    const { token, entry, stdout } = await addTenant('dev', 'c,a');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(entry).toEqual({ tokenSha256: createHash('sha256').update(token).digest('hex'), shards: ['c', 'a'] });
    expect(stdout.split(token)).toHaveLength(2);
    expect((await addTenant('dev', 'c,a')).token).not.toBe(token);
    const bad = await promeRoute(['tenants', 'add', 'dev team', '--shards', 'a,a']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('tenants["dev team"]: tenant name must be letters, digits, "_", "." or "-", got "dev team"');
    expect(bad.stderr).toContain('tenants["dev team"].shards[1]: lists shard "a" twice');
    for (const [args, message] of [
      [['tenants', 'add', 'dev'], 'tenants add needs --shards'],
      [['tenants', 'add', 'dev', '--shards', 'a', '--frobnicate'], "Unknown option '--frobnicate'"],
      [['tenants', 'remove', 'dev'], 'unknown tenants command "remove"'],
    ] as const) {
      const usage = await promeRoute([...args]);
      expect({ args, code: usage.code }).toEqual({ args, code: 2 });
      expect(usage.stderr).toContain(message);
    }
  });

  it('validate, push --ssm and diff know tenants, and never show a hash; an SSM path cannot hold them', async () => {
    const dev = await addTenant('dev', 'c,a');
    const ops = await addTenant('ops', 'b');
    const shards = { a: 'http://10.0.1.10:9090', b: 'http://10.1.1.10:9090', c: 'http://10.2.1.10:9090' };
    await writeFile(file('tenants.json'), JSON.stringify({ shards, tenants: { dev: dev.entry, ops: ops.entry } }));
    const hashes = [dev.entry.tokenSha256, ops.entry.tokenSha256];

    const validated = await cli(['validate', file('tenants.json')]);
    expect(validated.stdout).toBe([
      `${file('tenants.json')}: shard label cluster, 3 shards, 2 tenants`,
      '  a: http://10.0.1.10:9090',
      '  b: http://10.1.1.10:9090',
      '  c: http://10.2.1.10:9090',
      '  tenant dev: shards c, a',
      '  tenant ops: shards b',
      '',
    ].join('\n'));

    // Only hashes: the document stays a plain String parameter.
    expect((await cli(['push', file('tenants.json'), '--ssm', '/cli/tenants'])).code).toBe(0);
    expect(ssm.get('/cli/tenants')).toMatchObject({ type: 'String' });
    expect(await shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/cli/tenants' }).get()).toEqual(await load('tenants.json'));

    const qa = await addTenant('qa', 'a');
    const rotated = createHash('sha256').update('rotated token').digest('hex');
    await writeFile(file('tenants-changed.json'), JSON.stringify({ shards, tenants: { dev: { ...dev.entry, shards: ['a', 'b'] }, qa: qa.entry, ops: { ...ops.entry, tokenSha256: rotated } } }));
    const changed = await cli(['diff', file('tenants-changed.json'), '--ssm', '/cli/tenants']);
    expect(changed).toEqual({
      code: 1,
      stderr: '',
      stdout: [
        '--- SSM parameter /cli/tenants (in force)',
        `+++ ${file('tenants-changed.json')}`,
        '+ tenant qa: shards a',
        '~ tenant dev: shards c, a -> a, b',
        '~ tenant ops: token changed (hash not shown)',
        '3 tenants: 1 added, 2 changed',
        '',
      ].join('\n'),
    });

    const writes = ssmWrites().length;
    const path = await cli(['push', file('tenants.json'), '--ssm-path', '/cli/tenants-path']);
    expect(path.code).toBe(2);
    expect(path.stderr).toContain('it has tenants, which only a whole document holds (push it with --ssm NAME or --oss BUCKET/KEY)');
    expect(ssmWrites()).toHaveLength(writes);

    for (const hash of [...hashes, qa.entry.tokenSha256, rotated]) {
      for (const output of [validated, changed, path]) expect(output.stdout + output.stderr).not.toContain(hash);
    }
  });
});

describe('usage errors', () => {
  it('exit 2 with the usage', async () => {
    const cases: [string[], string][] = [
      [['push', file('map.json')], 'shards push takes exactly one of --ssm NAME, --ssm-path PATH or --oss BUCKET/KEY'],
      [['push', file('map.json'), '--ssm', '/x', '--oss', 'b/k'], 'shards push takes exactly one of'],
      [['push', file('map.json'), file('map.yaml')], 'unexpected argument'],
      [['push', file('map.json'), '--ssm', '/x', '--prune'], '--prune goes with --ssm-path only'],
      [['push', file('map.json'), '--oss', 'bucket-only'], '--oss wants BUCKET/KEY, got "bucket-only"'],
      [['push', file('map.json'), '--ssm-path', 'relative'], '--ssm-path must start with "/"'],
      [['push', file('map.json'), '--ssm', '/x', '--frobnicate'], "Unknown option '--frobnicate'"],
      [['validate'], 'shards validate takes one or more shard map files'],
      [['rollback'], 'unknown shards command "rollback"'],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toContain(message);
      expect(stderr).toContain('Usage:');
    }
    expect(ssmWrites().filter(({ body }) => body.Name === '/x')).toEqual([]);
  });

  it('shows the shards usage', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('prome-route shards push FILE');
  });
});

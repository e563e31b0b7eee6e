import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { shardMapFromEnv, type Environment } from '../../lib/shards/env.ts';
import { rejection, routes, testLoaderOptions } from './helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prome-route-env-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The message the first get() rejects with: even a configuration error waits for it (the router answers 503 with it). */
async function coldStartError(env: Environment): Promise<string> {
  const loader = shardMapFromEnv(env);
  expect(loader.ageMs()).toBeNull();
  return (await rejection(loader.get())).message;
}

describe('shardMapFromEnv', () => {
  it('names every source variable when none is set', async () => {
    expect(await coldStartError({ SHARD_MAP_FILE: '' })).toBe(
      'no shard map source configured: set SHARD_MAP_FILE, SHARD_MAP_SSM_PARAMETER, SHARD_MAP_SSM_PATH, or SHARD_MAP_OSS_BUCKET and SHARD_MAP_OSS_KEY',
    );
  });

  it('refuses more than one source, naming the variables set', async () => {
    expect(await coldStartError({ SHARD_MAP_FILE: 'x.json', SHARD_MAP_OSS_BUCKET: 'maps', SHARD_MAP_OSS_KEY: 'k' })).toBe(
      'more than one shard map source configured (SHARD_MAP_FILE, SHARD_MAP_OSS_BUCKET, SHARD_MAP_OSS_KEY): set only one',
    );
    expect(await coldStartError({ SHARD_MAP_SSM_PARAMETER: '/a', SHARD_MAP_SSM_PATH: '/b' })).toBe(
      'more than one shard map source configured (SHARD_MAP_SSM_PARAMETER, SHARD_MAP_SSM_PATH): set only one',
    );
  });

  it('wants both the OSS bucket and key', async () => {
    expect(await coldStartError({ SHARD_MAP_OSS_BUCKET: 'maps', SHARD_MAP_OSS_REGION: 'cn-hangzhou' })).toBe('SHARD_MAP_OSS_KEY is not set');
  });

  it('wants an OSS region or endpoint', async () => {
    expect(await coldStartError({ SHARD_MAP_OSS_BUCKET: 'maps', SHARD_MAP_OSS_KEY: 'k' })).toBe(
      'no OSS region: set SHARD_MAP_OSS_REGION (e.g. cn-hangzhou) or SHARD_MAP_OSS_ENDPOINT',
    );
  });

  it('says when OSS credentials are missing', async () => {
    // FC_REGION alone picks the endpoint; the credentials are missing before any request is made.
    expect(await coldStartError({ SHARD_MAP_OSS_BUCKET: 'maps', SHARD_MAP_OSS_KEY: 'k', FC_REGION: 'cn-hangzhou' })).toBe(
      'cannot read shard map oss://maps/k: no OSS credentials: give the function a role, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  });

  it('refuses a TTL that is not a number of seconds', async () => {
    expect(await coldStartError({ SHARD_MAP_FILE: 'x.json', SHARD_MAP_TTL_SECONDS: '30s' })).toBe(
      'SHARD_MAP_TTL_SECONDS must be a number of seconds, got "30s"',
    );
    expect(await coldStartError({ SHARD_MAP_FILE: 'x.json', SHARD_MAP_TTL_SECONDS: '-1' })).toBe(
      'SHARD_MAP_TTL_SECONDS must be a number of seconds, got "-1"',
    );
  });

  it('reads SHARD_MAP_FILE, and reads it again every SHARD_MAP_TTL_SECONDS', async () => {
    const path = join(dir, 'shards.yaml');
    await writeFile(path, 'shards:\n  a: http://a:9090\n');
    const options = testLoaderOptions();
    const loader = shardMapFromEnv({ SHARD_MAP_FILE: path, SHARD_MAP_TTL_SECONDS: '5' }, options);
    expect(routes(await loader.get())).toEqual({ shardLabel: 'cluster', shards: { a: ['http://a:9090'] } });

    await writeFile(path, 'shards:\n  b: http://b:9090\n');
    options.advance(4_999);
    expect(routes(await loader.get()).shards).toEqual({ a: ['http://a:9090'] });
    options.advance(1);
    await loader.get();
    await vi.waitFor(async () => expect(routes(await loader.get()).shards).toEqual({ b: ['http://b:9090'] }));
  });

  it('keeps the last good file contents when the file breaks', async () => {
    const path = join(dir, 'breaking.json');
    await writeFile(path, JSON.stringify({ shards: { a: 'http://a' } }));
    const options = testLoaderOptions();
    const loader = shardMapFromEnv({ SHARD_MAP_FILE: path }, options);
    const good = await loader.get();

    await writeFile(path, '{"shards": ');
    options.advance(30_000);
    expect(await loader.get()).toBe(good);
    await vi.waitFor(() => expect(options.logged).toHaveLength(1));
    expect(options.logged[0]).toMatchObject({ source: path, reason: `cannot parse shard map ${path} as JSON: Unexpected end of JSON input at line 1, column 12` });
  });

  it('rejects a cold start when the file is missing', async () => {
    const path = join(dir, 'missing.json');
    expect(await coldStartError({ SHARD_MAP_FILE: path })).toBe(`cannot read shard map ${path}: no such file`);
  });
});

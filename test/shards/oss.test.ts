// The OSS source with the real ali-oss client, against a local server answering GetObject as OSS does.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { shardMapFromEnv, type Environment } from '../../lib/shards/env.ts';
import { startFakeOss, type FakeOss } from './fake-oss.ts';
import { rejection, routes, testLoaderOptions } from './helpers.ts';

let oss: FakeOss;
beforeAll(async () => {
  oss = await startFakeOss();
  oss.keys.set('STS.test', { secret: 'role-secret', token: 'role-token' });
});
afterAll(() => oss.close());

const TTL = 30_000;
const MAP_YAML = 'shardLabel: cluster\nshards:\n  a: http://a:9090\n  b:\n    urls: [http://b1:9090, http://b2:9090]\n';

/** The variables a Function Compute deployment sets, with the endpoint pointed at the fake. */
function env(key: string): Environment {
  return {
    SHARD_MAP_OSS_BUCKET: 'maps',
    SHARD_MAP_OSS_KEY: key,
    SHARD_MAP_OSS_ENDPOINT: oss.url,
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.test',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'role-secret',
    ALIBABA_CLOUD_SECURITY_TOKEN: 'role-token',
  };
}

const requestsFor = (key: string) => oss.requests.filter((request) => request.key === key);

describe('a shard map in an OSS object', () => {
  it('loads a YAML object, signed with the role credentials', async () => {
    oss.put('maps', 'prod/shards.yaml', MAP_YAML);
    const loader = shardMapFromEnv(env('prod/shards.yaml'));
    expect(routes(await loader.get())).toEqual({
      shardLabel: 'cluster',
      shards: { a: ['http://a:9090'], b: ['http://b1:9090', 'http://b2:9090'] },
    });
    expect(requestsFor('prod/shards.yaml')).toEqual([{ method: 'GET', bucket: 'maps', key: 'prod/shards.yaml', status: 200 }]);
  });

  it('loads a JSON object', async () => {
    oss.put('maps', 'shards.json', JSON.stringify({ shardLabel: 'region', shards: { x: 'http://x' } }));
    const loader = shardMapFromEnv(env('shards.json'));
    expect(routes(await loader.get())).toEqual({ shardLabel: 'region', shards: { x: ['http://x'] } });
  });

  it('polls with the ETag: an unchanged object costs a 304 and keeps the map', async () => {
    const options = testLoaderOptions();
    oss.put('maps', 'unchanged.yaml', MAP_YAML);
    const loader = shardMapFromEnv(env('unchanged.yaml'), options);
    const map = await loader.get();

    options.advance(TTL);
    expect(await loader.get()).toBe(map);
    await vi.waitFor(() => expect(requestsFor('unchanged.yaml')).toHaveLength(2));
    const [first, second] = requestsFor('unchanged.yaml');
    expect(first).toMatchObject({ status: 200 });
    expect(first).not.toHaveProperty('ifNoneMatch'); // nothing to compare with yet
    expect(second).toMatchObject({ status: 304, ifNoneMatch: expect.stringMatching(/^"[0-9A-F]{32}"$/) });
    await vi.waitFor(() => expect(loader.ageMs()).toBe(0)); // the 304 confirmed the map in force
    expect(await loader.get()).toBe(map);
    expect(options.logged).toEqual([]);
  });

  it('picks up a changed object after the TTL', async () => {
    const options = testLoaderOptions();
    oss.put('maps', 'changing.yaml', MAP_YAML);
    const loader = shardMapFromEnv(env('changing.yaml'), options);
    await loader.get();

    oss.put('maps', 'changing.yaml', 'shards:\n  c: http://c:9090\n');
    options.advance(TTL);
    await loader.get();
    await vi.waitFor(async () => expect(routes(await loader.get()).shards).toEqual({ c: ['http://c:9090'] }));
    expect(requestsFor('changing.yaml').map(({ status }) => status)).toEqual([200, 200]);
    expect(requestsFor('changing.yaml')[1]?.ifNoneMatch).toBeDefined();
  });

  it('keeps the last good map through 403 and 500 answers, then confirms it with a 304', async () => {
    const options = testLoaderOptions();
    oss.put('maps', 'flaky.yaml', MAP_YAML);
    const loader = shardMapFromEnv(env('flaky.yaml'), options);
    const good = await loader.get();

    const failures = [
      { status: 403, code: 'AccessDenied', message: 'You have no right to access this object because of bucket acl.' },
      { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
    ];
    for (const [index, failure] of failures.entries()) {
      oss.failure = failure;
      try {
        options.advance(TTL);
        expect(await loader.get()).toBe(good);
        await vi.waitFor(() => expect(options.logged).toHaveLength(index + 1));
      } finally {
        oss.failure = null;
      }
    }
    expect(options.logged).toEqual([
      {
        level: 'error',
        msg: 'shard map refresh failed; keeping the last good map',
        source: 'oss://maps/flaky.yaml',
        reason: 'cannot read shard map oss://maps/flaky.yaml: 403 AccessDenied: You have no right to access this object because of bucket acl.',
        mapAgeMs: TTL,
      },
      {
        level: 'error',
        msg: 'shard map refresh failed; keeping the last good map',
        source: 'oss://maps/flaky.yaml',
        reason: 'cannot read shard map oss://maps/flaky.yaml: 500 InternalError: We encountered an internal error. Please try again.',
        mapAgeMs: 2 * TTL,
      },
    ]);
    // No secret in the log lines.
    expect(JSON.stringify(options.logged)).not.toMatch(/role-secret|role-token/);

    options.advance(TTL);
    expect(await loader.get()).toBe(good);
    await vi.waitFor(() => expect(loader.ageMs()).toBe(0));
    expect(requestsFor('flaky.yaml').map(({ status }) => status)).toEqual([200, 403, 500, 304]);
  });

  it('keeps the last good map when the object becomes invalid YAML, and reports it at every refresh', async () => {
    const options = testLoaderOptions();
    oss.put('maps', 'broken.yaml', MAP_YAML);
    const loader = shardMapFromEnv(env('broken.yaml'), options);
    const good = await loader.get();

    oss.put('maps', 'broken.yaml', 'shards:\n  a: [http://a\n');
    for (const refresh of [1, 2]) {
      options.advance(TTL);
      expect(await loader.get()).toBe(good);
      await vi.waitFor(() => expect(options.logged).toHaveLength(refresh));
    }
    expect(options.logged[0]?.reason).toMatch(/^cannot parse shard map oss:\/\/maps\/broken\.yaml as YAML: .+ at line \d+, column \d+$/);
    // The broken object is not remembered by its ETag: each refresh downloads it and fails again.
    expect(requestsFor('broken.yaml').map(({ status }) => status)).toEqual([200, 200, 200]);
  });

  it('rejects a cold start when the object does not exist', async () => {
    const loader = shardMapFromEnv(env('missing.yaml'));
    expect((await rejection(loader.get())).message).toBe(
      'cannot read shard map oss://maps/missing.yaml: 404 NoSuchKey: The specified key does not exist.',
    );
    expect(loader.ageMs()).toBeNull();
  });

  it('rejects a cold start when OSS cannot be reached', async () => {
    const closed = await startFakeOss();
    await closed.close();
    const loader = shardMapFromEnv({ ...env('shards.yaml'), SHARD_MAP_OSS_ENDPOINT: closed.url });
    expect((await rejection(loader.get())).message).toBe(
      `cannot read shard map oss://maps/shards.yaml: RequestError: connect ECONNREFUSED ${closed.url.slice('http://'.length)}, GET ${closed.url}/shards.yaml -1`,
    );
  });

  it('rejects a cold start with wrong credentials', async () => {
    oss.put('maps', 'secret.yaml', MAP_YAML);
    const loader = shardMapFromEnv({ ...env('secret.yaml'), ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' });
    expect((await rejection(loader.get())).message).toMatch(/^cannot read shard map oss:\/\/maps\/secret\.yaml: 403 SignatureDoesNotMatch: /);
  });

  it('asks for credentials before every request, as Function Compute rotates them', async () => {
    const options = testLoaderOptions();
    oss.put('maps', 'rotated.yaml', MAP_YAML);
    oss.keys.set('STS.old', { secret: 'old-secret', token: 'old-token' });
    let credentials = { accessKeyId: 'STS.old', accessKeySecret: 'old-secret', securityToken: 'old-token' };
    const loader = shardMapFromEnv(env('rotated.yaml'), { ...options, credentials: () => credentials });
    const map = await loader.get();

    oss.keys.delete('STS.old');
    oss.keys.set('STS.new', { secret: 'new-secret', token: 'new-token' });
    credentials = { accessKeyId: 'STS.new', accessKeySecret: 'new-secret', securityToken: 'new-token' };
    options.advance(TTL);
    await loader.get();
    await vi.waitFor(() => expect(requestsFor('rotated.yaml')).toHaveLength(2));
    expect(requestsFor('rotated.yaml')[1]?.status).toBe(304);
    expect(await loader.get()).toBe(map);
    expect(options.logged).toEqual([]);
  });
});

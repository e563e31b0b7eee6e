// The SSM sources with the real AWS SDK client, against a local server speaking SSM's protocol.
import { describe, expect, it, vi } from 'vitest';
import { shardMapFromEnv } from '../../lib/shards/env.ts';
import { useFakeSsm } from './fake-ssm.ts';
import { rejection, routes, testLoaderOptions } from './helpers.ts';

// The SDK finds the fake the way a Lambda finds SSM: endpoint, region and credentials from the environment.
const session = useFakeSsm();

const TTL = 30_000;
const SSM_RETRIES = { timeout: 10_000 }; // the SDK backs off between its attempts at a throttled call

const requestsFor = (name: string) => session.fake.requests.filter(({ body }) => body.Name === name || body.Path === name);

describe('one SSM parameter holding the map', () => {
  it('loads the document and asks SSM to decrypt it', async () => {
    session.fake.put('/t/single', JSON.stringify({ shardLabel: 'region', shards: { a: 'http://a:9090', b: { urls: ['http://b1', 'http://b2'] } } }));
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/single' });
    expect(routes(await loader.get())).toEqual({ shardLabel: 'region', shards: { a: ['http://a:9090'], b: ['http://b1', 'http://b2'] } });
    expect(requestsFor('/t/single')).toEqual([
      { target: 'AmazonSSM.GetParameter', body: { Name: '/t/single', WithDecryption: true }, status: 200 },
    ]);
  });

  it('reads YAML and the upstream format too', async () => {
    session.fake.put('/t/upstream', 'replace_label_name: dc\nprome_servers:\n  x: "10.0.0.1:9090"\n');
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/upstream' });
    expect(routes(await loader.get())).toEqual({ shardLabel: 'dc', shards: { x: ['http://10.0.0.1:9090'] } });
  });

  it('serves the map from memory within the TTL and picks up a new version after it', async () => {
    const options = testLoaderOptions();
    session.fake.put('/t/versions', JSON.stringify({ shards: { a: 'http://a1' } }));
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/versions' }, options);
    expect(routes(await loader.get()).shards).toEqual({ a: ['http://a1'] });

    session.fake.put('/t/versions', JSON.stringify({ shards: { a: 'http://a2', b: 'http://b' } }));
    options.advance(TTL - 1);
    expect(routes(await loader.get()).shards).toEqual({ a: ['http://a1'] });
    expect(requestsFor('/t/versions')).toHaveLength(1);

    options.advance(1);
    // The expired map answers at once; the refresh runs behind it.
    expect(routes(await loader.get()).shards).toEqual({ a: ['http://a1'] });
    await vi.waitFor(async () => expect(routes(await loader.get()).shards).toEqual({ a: ['http://a2'], b: ['http://b'] }));
    expect(requestsFor('/t/versions')).toHaveLength(2);
    expect(loader.ageMs()).toBe(0);
    expect(options.logged).toEqual([]);
  });

  it('keeps the last good map while SSM throttles', async () => {
    const options = testLoaderOptions();
    session.fake.put('/t/throttled', JSON.stringify({ shards: { a: 'http://a' } }));
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/throttled' }, options);
    const good = await loader.get();

    session.fake.throttling = true;
    try {
      options.advance(TTL);
      expect(await loader.get()).toBe(good);
      await vi.waitFor(() => expect(options.logged).toHaveLength(1), SSM_RETRIES);
    } finally {
      session.fake.throttling = false;
    }
    expect(options.logged[0]).toEqual({
      level: 'error',
      msg: 'shard map refresh failed; keeping the last good map',
      source: 'SSM parameter /t/throttled',
      reason: 'cannot read shard map SSM parameter /t/throttled: ThrottlingException: Rate exceeded',
      mapAgeMs: TTL,
    });
    expect(requestsFor('/t/throttled').map(({ status }) => status)).toContain(400);
    expect(await loader.get()).toBe(good);
    expect(loader.ageMs()).toBe(TTL);
  });

  it('keeps the last good map while SSM cannot be reached, and rejects a cold start with the reason', async () => {
    const options = testLoaderOptions();
    session.fake.put('/t/unreachable', JSON.stringify({ shards: { a: 'http://a' } }));
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/unreachable' }, options);
    const good = await loader.get();

    session.fake.unreachable = true;
    try {
      options.advance(TTL);
      expect(await loader.get()).toBe(good);
      await vi.waitFor(() => expect(options.logged).toHaveLength(1), SSM_RETRIES);
      expect(options.logged[0]).toMatchObject({ source: 'SSM parameter /t/unreachable', mapAgeMs: TTL });
      expect(String(options.logged[0]!.reason)).toMatch(/^cannot read shard map SSM parameter \/t\/unreachable: /);
      expect(await loader.get()).toBe(good);

      const cold = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/unreachable' }, testLoaderOptions());
      await expect(cold.get()).rejects.toThrow(/^cannot read shard map SSM parameter \/t\/unreachable: /);
    } finally {
      session.fake.unreachable = false;
    }
  });

  it('keeps the last good map when a new version is invalid, and says what is wrong', async () => {
    const options = testLoaderOptions();
    session.fake.put('/t/invalid', JSON.stringify({ shards: { a: 'http://a' } }));
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/invalid', SHARD_MAP_TTL_SECONDS: '10' }, options);
    const good = await loader.get();

    session.fake.put('/t/invalid', JSON.stringify({ shards: { a: 'ftp://a' } }));
    options.advance(10_000);
    expect(await loader.get()).toBe(good);
    await vi.waitFor(() => expect(options.logged).toHaveLength(1));
    expect(options.logged[0]).toMatchObject({
      level: 'error',
      source: 'SSM parameter /t/invalid',
      reason: 'invalid shard map SSM parameter /t/invalid:\n  - shards.a: must be an absolute http(s) URL, got "ftp://a"',
    });

    // Still broken at the next refresh: reported again, still the good map.
    options.advance(10_000);
    expect(await loader.get()).toBe(good);
    await vi.waitFor(() => expect(options.logged).toHaveLength(2));
    expect(loader.ageMs()).toBe(20_000);
  });

  it('rejects a cold start with the reason when the parameter does not exist', async () => {
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PARAMETER: '/t/missing' });
    expect((await rejection(loader.get())).message).toBe('cannot read shard map SSM parameter /t/missing: ParameterNotFound');
    expect(loader.ageMs()).toBeNull();
  });
});

describe('an SSM path with one parameter per shard', () => {
  it('reads every page of one level, each value a URL or a shard object', async () => {
    session.fake.put('/t/paged/a', 'http://a:9090');
    session.fake.put('/t/paged/b', '{"urls": ["http://b1:9090", "http://b2:9090"], "timeoutMs": 5000}');
    session.fake.put('/t/paged/c', 'https://c.example/prometheus/');
    session.fake.put('/t/paged/d', 'http://d');
    session.fake.put('/t/paged/e', 'http://e');
    session.fake.put('/t/paged/deeper/x', 'http://not-a-shard'); // below the level read
    session.fake.put('/t/pagedX', 'http://not-a-shard'); // beside the path, not in it
    session.fake.pageSize = 2;
    try {
      const loader = shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/t/paged/', SHARD_LABEL: 'k8s_cluster' });
      const map = await loader.get();
      expect(routes(map)).toEqual({
        shardLabel: 'k8s_cluster',
        shards: {
          a: ['http://a:9090'],
          b: ['http://b1:9090', 'http://b2:9090'],
          c: ['https://c.example/prometheus'],
          d: ['http://d'],
          e: ['http://e'],
        },
      });
      expect(map.shards.get('b')?.timeoutMs).toBe(5000);
    } finally {
      session.fake.pageSize = 10;
    }
    const pages = requestsFor('/t/paged');
    expect(pages.map(({ target }) => target)).toEqual(Array(3).fill('AmazonSSM.GetParametersByPath'));
    expect(pages[0]?.body).toEqual({ Path: '/t/paged', Recursive: false, WithDecryption: true });
    expect(pages.map(({ body }) => typeof body.NextToken)).toEqual(['undefined', 'string', 'string']);
  });

  it('takes the shard label from SHARD_LABEL, default cluster, and picks up an added shard after the TTL', async () => {
    const options = testLoaderOptions();
    session.fake.put('/t/growing/a', 'http://a');
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/t/growing' }, options);
    expect(routes(await loader.get())).toEqual({ shardLabel: 'cluster', shards: { a: ['http://a'] } });

    session.fake.put('/t/growing/b', 'http://b'); // aws ssm put-parameter --name /t/growing/b --value http://b
    options.advance(TTL);
    await loader.get();
    await vi.waitFor(async () => expect(routes(await loader.get()).shards).toEqual({ a: ['http://a'], b: ['http://b'] }));
  });

  it('names the parameter in every error', async () => {
    session.fake.put('/t/broken/a', 'http://a');
    session.fake.put('/t/broken/b', 'ftp://b');
    session.fake.put('/t/broken/c', '{"urls": ["http://c"], "header": {}}');
    session.fake.put('/t/broken/d', '{"urls": [}');
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/t/broken' });
    expect((await rejection(loader.get())).message).toBe(
      'invalid shard map SSM path /t/broken:\n' +
        '  - /t/broken/b: shards.b: must be an absolute http(s) URL, got "ftp://b"\n' +
        '  - /t/broken/c: shards.c.header: unknown key, expected one of urls, headers, timeoutMs, hedgeAfterMs, replicas\n' +
        "  - cannot parse shard map /t/broken/d as JSON: Unexpected token '}' at line 1, column 11",
    );
  });

  it('rejects an invalid SHARD_LABEL', async () => {
    session.fake.put('/t/labelled/a', 'http://a');
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/t/labelled', SHARD_LABEL: '__name__' });
    expect((await rejection(loader.get())).message).toContain('shardLabel: must not start with "__"');
  });

  it('rejects a cold start when the path holds no parameters', async () => {
    const loader = shardMapFromEnv({ SHARD_MAP_SSM_PATH: '/t/nothing-here/' });
    expect((await rejection(loader.get())).message).toBe('no shard map at SSM path /t/nothing-here: it holds no parameters');
  });
});

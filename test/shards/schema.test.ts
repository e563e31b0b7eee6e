import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseShardMap, ShardMapError } from '../../lib/shards/schema.ts';

/** The issues parseShardMap reports for `doc` (fails the test if it accepts it). */
function issuesOf(doc: unknown): readonly string[] {
  try {
    parseShardMap(doc);
  } catch (error) {
    if (error instanceof ShardMapError) return error.issues;
    throw error;
  }
  throw new Error('expected the shard map to be rejected');
}

const withShard = (shard: unknown) => ({ shards: { a: shard } });

describe('parseShardMap: valid maps', () => {
  it('reads the documented example', () => {
    const map = parseShardMap({
      shardLabel: 'cluster',
      shards: {
        a: { urls: ['http://10.0.1.10:9090', 'http://10.0.1.11:9090'] },
        b: 'http://10.1.1.10:9090',
      },
    });
    expect(map.shardLabel).toBe('cluster');
    expect([...map.shards.values()]).toEqual([
      { name: 'a', urls: ['http://10.0.1.10:9090', 'http://10.0.1.11:9090'], headers: {} },
      { name: 'b', urls: ['http://10.1.1.10:9090'], headers: {} },
    ]);
  });

  it('defaults shardLabel to cluster', () => {
    expect(parseShardMap({ shards: { a: 'http://a:9090' } }).shardLabel).toBe('cluster');
  });

  it('accepts another label name', () => {
    expect(parseShardMap({ shardLabel: 'region_1', shards: { a: 'http://a:9090' } }).shardLabel).toBe('region_1');
  });

  it('keeps headers and timeoutMs of object shards', () => {
    const shard = parseShardMap(
      withShard({ urls: ['https://a.example'], headers: { Authorization: 'Bearer t' }, timeoutMs: 5000 }),
    ).shards.get('a');
    expect(shard).toEqual({
      name: 'a',
      urls: ['https://a.example'],
      headers: { Authorization: 'Bearer t' },
      timeoutMs: 5000,
    });
    expect(parseShardMap(withShard({ urls: ['http://a'] })).shards.get('a')).not.toHaveProperty('timeoutMs');
  });

  it('removes a trailing slash and keeps a path prefix', () => {
    const map = parseShardMap({
      shards: {
        a: 'http://a:9090/',
        b: 'http://b:9090/prometheus/',
        c: { urls: ['https://c/prom/v1'] },
      },
    });
    expect([...map.shards.values()].map((shard) => shard.urls[0])).toEqual([
      'http://a:9090',
      'http://b:9090/prometheus',
      'https://c/prom/v1',
    ]);
  });

  it('normalizes what cannot change the collector: scheme and host case, default port', () => {
    expect(parseShardMap(withShard('HTTP://Prom-A.Example:80/')).shards.get('a')?.urls).toEqual([
      'http://prom-a.example',
    ]);
  });

  it('preserves document order', () => {
    const map = parseShardMap({ shards: { zeta: 'http://z', alpha: 'http://a', mid: 'http://m' } });
    expect([...map.shards.keys()]).toEqual(['zeta', 'alpha', 'mid']);
  });

  it('accepts any non-empty UTF-8 shard name, including ones v.record would drop', () => {
    const map = parseShardMap(
      JSON.parse('{"shards": {"eu west": "http://e", "日本": "http://j", "constructor": "http://c", "__proto__": "http://p"}}'),
    );
    expect([...map.shards.keys()]).toEqual(['eu west', '日本', 'constructor', '__proto__']);
  });
});

describe('parseShardMap: invalid maps', () => {
  it('rejects a document that is not an object', () => {
    expect(issuesOf([])).toEqual(['(root): must be an object with "shards", got an array']);
    expect(issuesOf('http://a')).toEqual(['(root): must be an object with "shards", got "http://a"']);
    expect(issuesOf(null)).toEqual(['(root): must be an object with "shards", got null']);
  });

  it('rejects a missing or empty shards object', () => {
    expect(issuesOf({})).toEqual(['shards: is required']);
    expect(issuesOf({ shards: {} })).toEqual(['shards: must name at least one shard']);
    expect(issuesOf({ shards: ['http://a'] })).toEqual([
      'shards: must be an object of shard names to shards, got an array',
    ]);
  });

  it('rejects an invalid label name', () => {
    expect(issuesOf({ shardLabel: '1x', shards: { a: 'http://a' } })).toEqual([
      'shardLabel: must be a valid label name, got "1x"',
    ]);
    expect(issuesOf({ shardLabel: 'a-b', shards: { a: 'http://a' } })).toEqual([
      'shardLabel: must be a valid label name, got "a-b"',
    ]);
    expect(issuesOf({ shardLabel: 7, shards: { a: 'http://a' } })).toEqual([
      'shardLabel: must be a valid label name, got 7',
    ]);
  });

  it('rejects a label name starting with __', () => {
    expect(issuesOf({ shardLabel: '__name__', shards: { a: 'http://a' } })).toEqual([
      'shardLabel: must not start with "__" (reserved for Prometheus internal labels), got "__name__"',
    ]);
  });

  it('rejects an empty or ill-formed shard name', () => {
    expect(issuesOf({ shards: { '': 'http://a' } })).toEqual(['shards[""]: shard name must not be empty']);
    expect(issuesOf(JSON.parse('{"shards": {"a\\ud800": "http://a"}}'))).toEqual([
      'shards["a\\ud800"]: shard name must be valid UTF-8',
    ]);
  });

  it('rejects a shard that is neither a URL nor an object', () => {
    expect(issuesOf(withShard(5))).toEqual(['shards.a: must be a URL string or an object with "urls", got 5']);
    expect(issuesOf(withShard(['http://a']))).toEqual([
      'shards.a: must be a URL string or an object with "urls", got an array',
    ]);
  });

  it('rejects URLs that are not absolute http(s)', () => {
    expect(issuesOf({ shards: { b: { urls: ['ftp://x'] } } })).toEqual([
      'shards.b.urls[0]: must be an absolute http(s) URL, got "ftp://x"',
    ]);
    expect(issuesOf({ shards: { b: 'ftp://x' } })).toEqual(['shards.b: must be an absolute http(s) URL, got "ftp://x"']);
    expect(issuesOf(withShard('10.0.0.1:9090'))).toEqual([
      'shards.a: must be an absolute http(s) URL, got "10.0.0.1:9090"',
    ]);
    expect(issuesOf(withShard('/prometheus'))).toEqual([
      'shards.a: must be an absolute http(s) URL, got "/prometheus"',
    ]);
    expect(issuesOf(withShard('http:host'))).toEqual(['shards.a: must be an absolute http(s) URL, got "http:host"']);
    expect(issuesOf(withShard('http://'))).toEqual(['shards.a: must be an absolute http(s) URL, got "http://"']);
  });

  it('rejects URLs with credentials without echoing them', () => {
    expect(issuesOf(withShard('http://user:secret@a:9090'))).toEqual([
      'shards.a: must not contain a username or password (put credentials in "headers")',
    ]);
  });

  it('rejects URLs with a query string or fragment', () => {
    expect(issuesOf(withShard({ urls: ['http://a/?x=1'] }))).toEqual([
      'shards.a.urls[0]: must not have a query string, got "http://a/?x=1"',
    ]);
    expect(issuesOf(withShard('http://a?'))).toEqual(['shards.a: must not have a query string, got "http://a?"']);
    expect(issuesOf(withShard('http://a/#top'))).toEqual(['shards.a: must not have a fragment, got "http://a/#top"']);
  });

  it('rejects a missing, empty or non-array urls', () => {
    expect(issuesOf(withShard({}))).toEqual(['shards.a.urls: is required']);
    expect(issuesOf(withShard({ urls: [] }))).toEqual(['shards.a.urls: must list at least one URL']);
    expect(issuesOf(withShard({ urls: 'http://a' }))).toEqual(['shards.a.urls: must be a list of URLs, got "http://a"']);
    expect(issuesOf(withShard({ urls: [42] }))).toEqual(['shards.a.urls[0]: must be a URL string, got 42']);
  });

  it('rejects unknown keys, listing every one', () => {
    expect(issuesOf(withShard({ url: ['http://a'] }))).toEqual([
      'shards.a.urls: is required',
      'shards.a.url: unknown key, expected one of urls, headers, timeoutMs, hedgeAfterMs, replicas',
    ]);
    expect(issuesOf({ shards: { a: 'http://a' }, shard_label: 'x', 'extra key': 1 })).toEqual([
      'shard_label: unknown key, expected one of shardLabel, shards, tenants',
      '["extra key"]: unknown key, expected one of shardLabel, shards, tenants',
    ]);
  });

  it('keeps hedgeAfterMs and validates it like timeoutMs', () => {
    expect(parseShardMap(withShard({ urls: ['http://a', 'http://b'], hedgeAfterMs: 200 })).shards.get('a')?.hedgeAfterMs).toBe(200);
    expect(issuesOf(withShard({ urls: ['http://a'], hedgeAfterMs: 0 }))).toEqual([
      'shards.a.hedgeAfterMs: must be a positive integer (milliseconds), got 0',
    ]);
  });

  it('keeps "replicas": "merge" or "failover" (absent: failover), and refuses hedging with merge', () => {
    expect(parseShardMap(withShard({ urls: ['http://a', 'http://b'], replicas: 'merge' })).shards.get('a')?.replicas).toBe('merge');
    expect(parseShardMap(withShard({ urls: ['http://a'], replicas: 'failover' })).shards.get('a')?.replicas).toBe('failover');
    expect(parseShardMap(withShard({ urls: ['http://a'] })).shards.get('a')?.replicas).toBeUndefined();
    expect(issuesOf(withShard({ urls: ['http://a'], replicas: 'both' }))).toEqual(['shards.a.replicas: must be "failover" or "merge", got "both"']);
    expect(issuesOf(withShard({ urls: ['http://a', 'http://b'], replicas: 'merge', hedgeAfterMs: 100 }))).toEqual([
      'shards.a.hedgeAfterMs: applies to "replicas": "failover" only: with "merge" every replica is asked',
    ]);
  });

  it('rejects a timeoutMs that is not a positive integer', () => {
    const message = (got: string) => `shards.a.timeoutMs: must be a positive integer (milliseconds), got ${got}`;
    expect(issuesOf(withShard({ urls: ['http://a'], timeoutMs: 1.5 }))).toEqual([message('1.5')]);
    expect(issuesOf(withShard({ urls: ['http://a'], timeoutMs: 0 }))).toEqual([message('0')]);
    expect(issuesOf(withShard({ urls: ['http://a'], timeoutMs: -100 }))).toEqual([message('-100')]);
    expect(issuesOf(withShard({ urls: ['http://a'], timeoutMs: '5000' }))).toEqual([message('"5000"')]);
  });

  it('rejects headers that are not strings, with invalid names or line breaks, never echoing values', () => {
    expect(issuesOf(withShard({ urls: ['http://a'], headers: { 'X-Org': 1 } }))).toEqual([
      'shards.a.headers["X-Org"]: must be a string, got 1',
    ]);
    expect(issuesOf(withShard({ urls: ['http://a'], headers: ['Authorization: x'] }))).toEqual([
      'shards.a.headers: must be an object of header names to values, got an array',
    ]);
    expect(issuesOf(withShard({ urls: ['http://a'], headers: { 'Bad Name': 'v' } }))).toEqual([
      'shards.a.headers["Bad Name"]: must be a valid HTTP header name',
    ]);
    expect(issuesOf(withShard({ urls: ['http://a'], headers: { Authorization: 'Bearer s\r\nX: y' } }))).toEqual([
      'shards.a.headers.Authorization: must not contain line breaks or NUL characters',
    ]);
  });

  it('lists all issues of a document at once, with a readable message', () => {
    let error: unknown;
    try {
      parseShardMap(
        {
          shardLabel: '1x',
          shards: { 'eu west': { urls: ['ftp://x', 'http://ok'], timeoutMs: 0 }, b: 'http://b?q' },
        },
        'shards.json',
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ShardMapError);
    const issues = [
      'shardLabel: must be a valid label name, got "1x"',
      'shards["eu west"].urls[0]: must be an absolute http(s) URL, got "ftp://x"',
      'shards["eu west"].timeoutMs: must be a positive integer (milliseconds), got 0',
      'shards.b: must not have a query string, got "http://b?q"',
    ];
    expect((error as ShardMapError).issues).toEqual(issues);
    expect((error as ShardMapError).message).toBe(
      `invalid shard map shards.json:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`,
    );
    expect((error as ShardMapError).name).toBe('ShardMapError');
  });
});

describe('parseShardMap: tenants', () => {
  const hash = (token: string) => createHash('sha256').update(token).digest('hex');
  const shards = { a: 'http://a', b: 'http://b', c: 'http://c' };

  it('reads tenants in document order, hashes in lowercase; without tenants the map has none', () => {
    const map = parseShardMap({
      shards,
      tenants: { 'team-b': { tokenSha256: hash('b').toUpperCase(), shards: ['c', 'a'] }, ops: { tokenSha256: hash('o'), shards: ['b'] } },
    });
    expect([...map.tenants!.values()]).toEqual([
      { name: 'team-b', tokenSha256: hash('b'), shards: ['c', 'a'] },
      { name: 'ops', tokenSha256: hash('o'), shards: ['b'] },
    ]);
    expect(parseShardMap({ shards })).not.toHaveProperty('tenants');
    // Present but empty: only the router-wide credential is admitted.
    expect(parseShardMap({ shards, tenants: {} }).tenants).toEqual(new Map());
  });

  it('names the field of every problem, and never shows a hash', () => {
    const taken = hash('shared');
    const issues = issuesOf({
      shards,
      tenants: {
        'team a': { tokenSha256: hash('x'), shards: ['a'] },
        one: { tokenSha256: taken, shards: ['a', 'd', 'a'] },
        two: { tokenSha256: taken.toUpperCase(), shards: [] },
        three: { tokenSha256: `${taken}0`, shards: 'a', token: 'x' },
        four: { shards: [1] },
      },
    });
    expect(issues).toEqual([
      'tenants["team a"]: tenant name must be letters, digits, "_", "." or "-", got "team a"',
      'tenants.one.shards[2]: lists shard "a" twice',
      'tenants.two.shards: must list at least one shard',
      'tenants.three.tokenSha256: must be the sha256 of the tenant\'s token as 64 hexadecimal digits (prome-route tenants add prints it)',
      'tenants.three.shards: must be a list of shard names, got "a"',
      'tenants.three.token: unknown key, expected one of tokenSha256, shards',
      'tenants.four.tokenSha256: is required',
      'tenants.four.shards[0]: must be a shard name, got 1',
      'tenants.one.shards[1]: unknown shard "d": not in "shards"',
      'tenants.two.tokenSha256: the same hash as tenant "one": every tenant needs a token of its own',
    ]);
    expect(issues.join('\n')).not.toContain(taken.slice(0, 16));
    expect(issuesOf({ shards, tenants: ['ops'] })).toEqual(['tenants: must be an object of tenant names to tenants, got an array']);
  });

  it('checks tenants against the shards even when a shard is invalid', () => {
    expect(issuesOf({ shards: { a: 'ftp://a' }, tenants: { t: { tokenSha256: hash('t'), shards: ['a', 'b'] } } })).toEqual([
      'shards.a: must be an absolute http(s) URL, got "ftp://a"',
      'tenants.t.shards[1]: unknown shard "b": not in "shards"',
    ]);
  });
});

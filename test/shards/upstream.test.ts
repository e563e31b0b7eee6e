import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ShardMapError } from '../../lib/shards/schema.ts';
import { fromUpstreamConfig, isUpstreamConfig } from '../../lib/shards/upstream.ts';

function issuesOf(doc: unknown): readonly string[] {
  try {
    fromUpstreamConfig(doc);
  } catch (error) {
    if (error instanceof ShardMapError) return error.issues;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('upstream prome-route config', () => {
  it('reads the upstream YAML as is', () => {
    const doc = parseYaml(`
replace_label_name: cluster # the label that picks the shard
prome_servers:
  a: "1.1.1.1:9090"
  b: "http://2.2.2.2:9090"
  c: prom-c.internal:9090
http:
  listen_addr: ":8080"
`);
    expect(isUpstreamConfig(doc)).toBe(true);
    const { map, listen } = fromUpstreamConfig(doc);
    expect(listen).toBe(':8080');
    expect(map.shardLabel).toBe('cluster');
    expect([...map.shards.values()]).toEqual([
      { name: 'a', urls: ['http://1.1.1.1:9090'], headers: {} },
      { name: 'b', urls: ['http://2.2.2.2:9090'], headers: {} },
      { name: 'c', urls: ['http://prom-c.internal:9090'], headers: {} },
    ]);
  });

  it('keeps https and path prefixes of full URLs', () => {
    const { map } = fromUpstreamConfig({ prome_servers: { a: 'https://a.example/prometheus/' } });
    expect(map.shards.get('a')?.urls).toEqual(['https://a.example/prometheus']);
  });

  it('defaults the label to cluster when missing, empty or null, as the Go proxy did', () => {
    const servers = { a: '1.1.1.1:9090' };
    expect(fromUpstreamConfig({ prome_servers: servers }).map.shardLabel).toBe('cluster');
    expect(fromUpstreamConfig({ replace_label_name: '', prome_servers: servers }).map.shardLabel).toBe('cluster');
    expect(fromUpstreamConfig({ replace_label_name: null, prome_servers: servers }).map.shardLabel).toBe('cluster');
    expect(fromUpstreamConfig({ replace_label_name: 'idc', prome_servers: servers }).map.shardLabel).toBe('idc');
  });

  it('returns no listen address when http or listen_addr is absent', () => {
    expect(fromUpstreamConfig({ prome_servers: { a: 'h:1' } })).not.toHaveProperty('listen');
    expect(fromUpstreamConfig({ prome_servers: { a: 'h:1' }, http: null })).not.toHaveProperty('listen');
    expect(fromUpstreamConfig({ prome_servers: { a: 'h:1' }, http: {} })).not.toHaveProperty('listen');
  });

  it('requires prome_servers with at least one shard', () => {
    expect(issuesOf({ replace_label_name: 'cluster', http: { listen_addr: ':8080' } })).toEqual([
      'prome_servers: is required',
    ]);
    expect(issuesOf({ prome_servers: {} })).toEqual(['prome_servers: must name at least one shard']);
    expect(issuesOf({ prome_servers: null })).toEqual([
      'prome_servers: must be an object of shard names to "host:port" addresses, got null',
    ]);
  });

  it('reports issues with paths into the upstream document', () => {
    expect(
      issuesOf({
        replace_label_name: '__x',
        prome_servers: { a: 'ftp://1.1.1.1', b: 9090, 'c d': '1.1.1.1:9090?x' },
        http: { listen_addr: 8080, read_timeout: '5s' },
        log_level: 'debug',
      }),
    ).toEqual([
      'replace_label_name: must not start with "__" (reserved for Prometheus internal labels), got "__x"',
      'prome_servers.a: must be an absolute http(s) URL, got "ftp://1.1.1.1"',
      'prome_servers.b: must be a URL string, got 9090',
      'prome_servers["c d"]: must not have a query string, got "1.1.1.1:9090?x"',
      'http.listen_addr: must be an address like ":8080"',
      'http.read_timeout: unknown key, expected one of listen_addr',
      'log_level: unknown key, expected one of replace_label_name, prome_servers, http',
    ]);
  });

  it('names the source in the error message', () => {
    expect(() => fromUpstreamConfig({ prome_servers: {} }, 'prome-route.yml')).toThrow(
      'invalid shard map prome-route.yml:\n  - prome_servers: must name at least one shard',
    );
  });

  it('tells the upstream format from the native one', () => {
    expect(isUpstreamConfig({ prome_servers: {} })).toBe(true);
    expect(isUpstreamConfig({ replace_label_name: 'cluster' })).toBe(true);
    expect(isUpstreamConfig({ shards: {} })).toBe(false);
    expect(isUpstreamConfig({ shards: {}, prome_servers: {} })).toBe(false);
    expect(isUpstreamConfig({})).toBe(false);
    expect(isUpstreamConfig(['prome_servers'])).toBe(false);
    expect(isUpstreamConfig(null)).toBe(false);
  });
});

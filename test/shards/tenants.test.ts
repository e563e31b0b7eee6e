// Tenants in the shard map: written back as a document, compared by `shards diff`, and the view a
// tenant's requests are handed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diffShardMaps, formatChange, summarizeChanges } from '../../lib/shards/diff.ts';
import { shardMapJson } from '../../lib/shards/document.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';
import { tenantView } from '../../lib/shards/tenants.ts';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const shards = { a: 'http://a', b: { urls: ['http://b1', 'http://b2'] }, c: 'http://c' };
const map = parseShardMap({
  shards,
  tenants: { dev: { tokenSha256: hash('dev'), shards: ['c', 'a'] }, ops: { tokenSha256: hash('ops'), shards: ['b'] } },
});

describe('the document of a map with tenants', () => {
  it('reads back as the same map; a map without tenants writes none', () => {
    expect(parseShardMap(JSON.parse(shardMapJson(map)))).toEqual(map);
    expect(JSON.parse(shardMapJson(map, { pretty: true })).tenants).toEqual({
      dev: { tokenSha256: hash('dev'), shards: ['c', 'a'] },
      ops: { tokenSha256: hash('ops'), shards: ['b'] },
    });
    expect(JSON.parse(shardMapJson(parseShardMap({ shards })))).not.toHaveProperty('tenants');
  });
});

describe('diffShardMaps with tenants', () => {
  it('lists tenants added, removed, with other shards or another token, never a hash', () => {
    const proposed = parseShardMap({
      shards,
      tenants: {
        dev: { tokenSha256: hash('dev-2'), shards: ['a', 'b'] },
        qa: { tokenSha256: hash('qa'), shards: ['a'] },
      },
    });
    const changes = diffShardMaps(map, proposed);
    const lines = changes.map(formatChange);
    expect(lines).toEqual([
      '+ tenant qa: shards a',
      '- tenant ops: shards b',
      '~ tenant dev: shards c, a -> a, b',
      '~ tenant dev: token changed (hash not shown)',
    ]);
    expect(summarizeChanges(changes)).toBe('3 tenants: 1 added, 1 removed, 1 changed');
    for (const token of ['dev', 'dev-2', 'qa', 'ops']) expect(JSON.stringify([lines, changes])).not.toContain(hash(token).slice(0, 12));
  });

  it('ignores the order a tenant lists its shards in, and tells tenants from shards in the summary', () => {
    const reordered = parseShardMap({ shards, tenants: { dev: { tokenSha256: hash('dev'), shards: ['a', 'c'] }, ops: { tokenSha256: hash('ops'), shards: ['b'] } } });
    expect(diffShardMaps(map, reordered)).toEqual([]);
    const withoutTenants = parseShardMap({ shards: { ...shards, c: 'http://c2', d: 'http://d' } });
    const changes = diffShardMaps(map, withoutTenants);
    expect(changes.map(formatChange)).toEqual(['+ d: http://d', '~ c: urls http://c -> http://c2', '- tenant dev: shards c, a', '- tenant ops: shards b']);
    expect(summarizeChanges(changes)).toBe('2 shards: 1 added, 1 changed; 2 tenants: 2 removed');
  });
});

describe('tenantView', () => {
  it('holds only the tenant\'s shards, in map order, and no tenants', () => {
    const view = tenantView(map, 'dev');
    expect(view.shardLabel).toBe('cluster');
    expect([...view.shards.keys()]).toEqual(['a', 'c']);
    expect(view.shards.get('a')).toBe(map.shards.get('a'));
    expect(view).not.toHaveProperty('tenants');
  });

  it('is one object per map and tenant, so caches keyed by the map keep working', () => {
    expect(tenantView(map, 'dev')).toBe(tenantView(map, 'dev'));
    expect(tenantView(map, 'ops')).not.toBe(tenantView(map, 'dev'));
    const refreshed = parseShardMap(JSON.parse(shardMapJson(map)));
    expect(tenantView(refreshed, 'dev')).not.toBe(tenantView(map, 'dev'));
  });
});

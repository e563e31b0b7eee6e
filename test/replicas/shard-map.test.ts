// "replicas" in the shard map's other forms: written back as a document (what `shards push` stores)
// and in the changes `shards diff` lists.
import { describe, expect, it } from 'vitest';
import { diffShardMaps, formatChange, describeShard } from '../../lib/shards/diff.ts';
import { shardMapJson } from '../../lib/shards/document.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';

const map = (a: unknown) => parseShardMap({ shards: { a, b: 'http://b:9090' } });

describe('"replicas" in shard map documents and diffs', () => {
  it('survives being written back and read again', () => {
    const merged = map({ urls: ['http://a0:9090', 'http://a1:9090'], replicas: 'merge' });
    expect(parseShardMap(JSON.parse(shardMapJson(merged))).shards.get('a')?.replicas).toBe('merge');
    const single = map({ urls: ['http://a0:9090'], replicas: 'merge' });
    expect(JSON.parse(shardMapJson(single)).shards.a).toEqual({ urls: ['http://a0:9090'], replicas: 'merge' });
  });

  it('shows a change of mode, and the mode of a shard', () => {
    const before = map({ urls: ['http://a0:9090', 'http://a1:9090'] });
    const after = map({ urls: ['http://a0:9090', 'http://a1:9090'], replicas: 'merge' });
    expect(diffShardMaps(before, after).map(formatChange)).toEqual(['~ a: replicas failover -> merge']);
    expect(diffShardMaps(after, after)).toEqual([]);
    expect(describeShard(after.shards.get('a')!)).toBe('http://a0:9090, http://a1:9090; replicas merge');
  });
});

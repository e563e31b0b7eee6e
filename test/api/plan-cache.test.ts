import { describe, expect, it } from 'vitest';
import { cachedPlan, MAX_CACHED_PLANS, MAX_CACHED_QUERY_LENGTH } from '../../lib/api/plan-cache.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';

const map = () => parseShardMap({ shards: { a: 'http://a:9090', b: 'http://b:9090' } });

describe('cachedPlan', () => {
  it('returns the same plan for the same text and map, and plans the same as uncached', () => {
    const m = map();
    const first = cachedPlan('sum(up{cluster="a"})', m);
    expect(cachedPlan('sum(up{cluster="a"})', m)).toBe(first);
    expect(first.shards).toEqual(['a']);
    expect(first.forShard('a')).toBe(first.forShard('a'));
    expect(first.forShard('a').query).toBe('sum(up{})');
  });

  it('keeps plans per shard map: a refreshed map plans again', () => {
    const first = cachedPlan('up', map());
    const second = cachedPlan('up', parseShardMap({ shards: { a: 'http://a:9090', c: 'http://c:9090' } }));
    expect(second).not.toBe(first);
    expect(second.shards).toEqual(['a', 'c']);
  });

  it('drops the least recently used plan when full, and never caches long queries', () => {
    const m = map();
    const kept = cachedPlan('up', m);
    const dropped = cachedPlan('down', m);
    for (let i = 0; i < MAX_CACHED_PLANS - 2; i++) cachedPlan(`m${i}`, m);
    expect(cachedPlan('up', m)).toBe(kept); // used again: now the most recent
    cachedPlan('one_more', m);
    expect(cachedPlan('up', m)).toBe(kept);
    expect(cachedPlan('down', m)).not.toBe(dropped);
    const long = `up{job="${'x'.repeat(MAX_CACHED_QUERY_LENGTH)}"}`;
    expect(cachedPlan(long, m)).not.toBe(cachedPlan(long, m));
  });

  it('does not cache syntax errors', () => {
    expect(() => cachedPlan('up{', map())).toThrow();
  });
});

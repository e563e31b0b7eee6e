import { describe, expect, it } from 'vitest';
import { cachedPlan, MAX_CACHED_PLANS, MAX_CACHED_QUERY_LENGTH } from '../../lib/api/plan-cache.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';

const map = () => parseShardMap({ shards: { a: 'http://a:9090', b: 'http://b:9090' } });

describe('cachedPlan', () => {
  it('returns the same plan for the same text and map, and plans the same as uncached', () => {
    const m = map();
    const first = cachedPlan('sum(up{cluster="a"})', m, 2);
    expect(cachedPlan('sum(up{cluster="a"})', m, 2)).toBe(first);
    expect(first.shards).toEqual(['a']);
    expect(first.forShard('a')).toBe(first.forShard('a'));
    expect(first.forShard('a').query).toBe('sum(up{})');
  });

  it('keeps plans per shard map: a refreshed map plans again', () => {
    const first = cachedPlan('up', map(), 2);
    const second = cachedPlan('up', parseShardMap({ shards: { a: 'http://a:9090', c: 'http://c:9090' } }), 2);
    expect(second).not.toBe(first);
    expect(second.shards).toEqual(['a', 'c']);
  });

  it('drops the least recently used plan when full, and never caches long queries', () => {
    const m = map();
    const kept = cachedPlan('up', m, 2);
    const dropped = cachedPlan('down', m, 2);
    for (let i = 0; i < MAX_CACHED_PLANS - 2; i++) cachedPlan(`m${i}`, m, 2);
    expect(cachedPlan('up', m, 2)).toBe(kept); // used again: now the most recent
    cachedPlan('one_more', m, 2);
    expect(cachedPlan('up', m, 2)).toBe(kept);
    expect(cachedPlan('down', m, 2)).not.toBe(dropped);
    const long = `up{job="${'x'.repeat(MAX_CACHED_QUERY_LENGTH)}"}`;
    expect(cachedPlan(long, m, 2)).not.toBe(cachedPlan(long, m, 2));
  });

  it('keeps plans per major: 3.x regexes let `.` match the newline in a shard name', () => {
    const m = parseShardMap({ shards: { 'a\nb': 'http://a:9090', c: 'http://c:9090' } });
    expect(cachedPlan('up{cluster=~"a.b"}', m, 2).shards).toEqual([]);
    expect(cachedPlan('up{cluster=~"a.b"}', m, 3).shards).toEqual(['a\nb']);
  });

  it('does not cache syntax errors', () => {
    expect(() => cachedPlan('up{', map(), 2)).toThrow();
  });
});

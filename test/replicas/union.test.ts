// The replicas' metadata answers made one (lib/replicas/union.ts): shapes as Prometheus answers them.
import { describe, expect, it } from 'vitest';
import { uniteExemplars, uniteSeries, uniteStrings } from '../../lib/replicas/union.ts';

describe('unions of replicas\' answers', () => {
  it('lists every label name or value any replica lists (the endpoint sorts and deduplicates)', () => {
    expect(uniteStrings([['a', 'b'], ['b', 'c']])).toEqual(['a', 'b', 'b', 'c']);
  });

  it('lists each series once', () => {
    const up = { __name__: 'up', job: 'x' };
    expect(uniteSeries([[up, { __name__: 'a' }], [{ ...up }, { __name__: 'b' }]])).toEqual([up, { __name__: 'a' }, { __name__: 'b' }]);
  });

  it('merges exemplars per series, each once, in time order', () => {
    const e = (timestamp: number, value = '1') => ({ labels: { trace_id: String(timestamp) }, value, timestamp });
    const united = uniteExemplars([
      [{ seriesLabels: { __name__: 'h' }, exemplars: [e(1), e(3)] }],
      [{ seriesLabels: { __name__: 'h' }, exemplars: [e(2), e(3)] }, { seriesLabels: { __name__: 'g' }, exemplars: [e(5)] }],
    ]);
    expect(united).toEqual([
      { seriesLabels: { __name__: 'h' }, exemplars: [e(1), e(2), e(3)] },
      { seriesLabels: { __name__: 'g' }, exemplars: [e(5)] },
    ]);
  });
});

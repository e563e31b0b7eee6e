// The replicas' metadata answers made one (lib/replicas/union.ts): shapes as Prometheus answers them.
import { describe, expect, it } from 'vitest';
import { uniteAlertList, uniteExemplars, uniteMetadata, uniteRules, uniteSeries, uniteStrings } from '../../lib/replicas/union.ts';

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

  it('lists each metric\'s metadata once per (type, help, unit)', () => {
    const counter = { type: 'counter', help: 'Requests.', unit: '' };
    const united = uniteMetadata([
      { http_requests_total: [counter], only_one: [{ type: 'gauge', help: 'x', unit: '' }] },
      { http_requests_total: [{ ...counter }, { ...counter, help: 'Requests served.' }], ['__proto__']: [counter] },
    ]);
    expect(Object.keys(united)).toEqual(['http_requests_total', 'only_one', '__proto__']);
    expect(united.http_requests_total).toEqual([counter, { ...counter, help: 'Requests served.' }]);
  });

  const alert = (instance: string, state: string, activeAt: string) => ({ labels: { alertname: 'Down', instance }, annotations: {}, state, activeAt, value: '1e+00' });

  it('lists each alert once, in its most critical state, active since the earliest', () => {
    const united = uniteAlertList([
      [alert('a', 'pending', '2026-01-01T00:01:00Z'), alert('b', 'firing', '2026-01-01T00:05:00Z')],
      [alert('a', 'firing', '2026-01-01T00:02:00Z'), alert('b', 'firing', '2026-01-01T00:03:00Z'), alert('c', 'pending', '2026-01-01T00:04:00Z')],
    ]);
    expect(united).toEqual([alert('a', 'firing', '2026-01-01T00:02:00Z'), alert('b', 'firing', '2026-01-01T00:03:00Z'), alert('c', 'pending', '2026-01-01T00:04:00Z')]);
  });

  it('keeps alerts that share a label set on one replica as many', () => {
    const twice = [alert('a', 'firing', '2026-01-01T00:01:00Z'), alert('a', 'pending', '2026-01-01T00:02:00Z')];
    expect(uniteAlertList([twice, [alert('a', 'pending', '2026-01-01T00:00:00Z')]])).toEqual(twice);
  });

  it('deduplicates rules as Thanos does, with the union of their alerts', () => {
    const rule = (state: string, lastEvaluation: string, alerts: ReturnType<typeof alert>[]) => ({
      type: 'alerting', name: 'Down', query: 'up == 0', duration: 60, labels: {}, annotations: {}, state, alerts, health: 'ok', lastEvaluation,
    });
    const recording = (lastEvaluation: string) => ({ type: 'recording', name: 'job:up:sum', query: 'sum by (job) (up)', labels: {}, health: 'ok', lastEvaluation });
    const group = (name: string, file: string, rules: object[]) => ({ name, file, rules, interval: 1, evaluationTime: 0, lastEvaluation: '' });
    const firing = alert('b', 'firing', '2026-01-01T00:00:00Z');
    const pending = alert('a', 'pending', '2026-01-01T00:00:00Z');
    const united = uniteRules([
      { groups: [group('g', '/r.yml', [rule('pending', '2026-01-01T00:10:02Z', [pending]), recording('2026-01-01T00:10:00Z')])] },
      { groups: [
        group('early', '/r.yml', [recording('2026-01-01T00:10:00Z')]),
        group('g', '/r.yml', [rule('firing', '2026-01-01T00:10:01Z', [firing]), recording('2026-01-01T00:10:01Z'), { ...recording('x'), name: 'new' }]),
      ] },
    ]);
    expect(united.groups.map((g) => g.name)).toEqual(['early', 'g']);
    expect(united.groups[1]!.rules).toEqual([
      rule('firing', '2026-01-01T00:10:01Z', [pending, firing]),
      recording('2026-01-01T00:10:01Z'),
      { ...recording('x'), name: 'new' },
    ]);
  });
});

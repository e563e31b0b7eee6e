// The union of shards' answers, assembled from their bytes, against the same union built from
// JSON.parse'd objects: whatever whitespace the collectors write, and wherever a collector's series
// already carry the shard label (the router's value replaces theirs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanAnswer } from '../../lib/collectors/json-scan.ts';
import { EvaluationError } from '../../lib/errors.ts';
import { unionAnswer, type UnionPart } from '../../lib/shard-label/union.ts';
import { spaced } from '../support/spaced-json.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const params = { numRuns: RUNS, ...(process.env.PROPERTY_RUNS === undefined ? { seed: 20261203 } : {}) };

function part(envelope: unknown, spaces: readonly string[], addLabel: string | null): UnionPart {
  const body = Buffer.from(spaced(envelope, spaces));
  return { answer: { body, answer: scanAnswer(body, 'cluster') }, addLabel };
}

const union = (parts: UnionPart[], type: 'vector' | 'matrix', warnings: string[] = []) =>
  JSON.parse(Buffer.concat(unionAnswer(parts, 'cluster', type, warnings)).toString('utf8')) as {
    status: string; data: { resultType: string; result: { metric: Record<string, string> }[] }; warnings?: string[];
  };

/** The shard label rule (lib/shard-label/edit.ts), written out: the router's value, theirs as original_cluster. */
function ruled(metric: Record<string, string>, shard: string): Record<string, string> {
  const { cluster: own, original_cluster: _hidden, ...others } = metric;
  return { ...others, cluster: shard, ...(own === undefined ? {} : { original_cluster: own }) };
}

describe('unionAnswer', () => {
  const labelName = fc.constantFrom('__name__', 'job', 'instance', 'cluster', 'original_cluster', 'a', 'zz', 'é');
  const metric = fc.dictionary(labelName, fc.string({ minLength: 1, maxLength: 4 }), { maxKeys: 4 });
  const whitespace = fc.array(fc.constantFrom('', ' ', '\n', '\t '), { minLength: 1, maxLength: 5 });

  it('is the union of the shards\' series, each with its shard label, theirs kept as original_cluster', () => {
    const shardAnswer = fc.record({
      series: fc.uniqueArray(metric, { maxLength: 4, selector: (m) => JSON.stringify(Object.entries(ruled(m, '')).sort()) }),
      spaces: whitespace,
    });
    fc.assert(fc.property(fc.array(shardAnswer, { minLength: 1, maxLength: 3 }), (shards) => {
      const parts = shards.map((s, i) => part({
        status: 'success',
        data: { resultType: 'vector', result: s.series.map((m) => ({ metric: m, value: [1, '1'] })) },
      }, s.spaces, `s${i}`));
      const expected = shards.flatMap((s, i) => s.series.map((m) => ({ metric: ruled(m, `s${i}`), value: [1, '1'] })));
      const got = union(parts, 'vector');
      expect(got.status).toBe('success');
      expect(got.data.resultType).toBe('vector');
      expect(got.data.result).toEqual(expected);
    }), params);
  });

  it('passes matrices and warnings on', () => {
    const a = part({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { job: 'x' }, values: [[1, '1'], [2, '2']] }] } }, [' '], 'a');
    const b = part({ status: 'success', data: { resultType: 'matrix', result: [] } }, [''], 'b');
    const c = part({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[3, 'NaN']] }] } }, ['\n'], 'c');
    expect(union([a, b, c], 'matrix', ['w'])).toEqual({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { job: 'x', cluster: 'a' }, values: [[1, '1'], [2, '2']] }, { metric: { cluster: 'c' }, values: [[3, 'NaN']] }] },
      warnings: ['w'],
    });
  });

  it('refuses label sets that meet at a step, as Prometheus does', () => {
    // Two series of one shard that differ only in their own original_cluster (which the rule does not show) collide.
    const collide = part({ status: 'success', data: { resultType: 'vector', result: [{ metric: { cluster: 'x', original_cluster: 'p', job: 'j' }, value: [1, '1'] }, { metric: { cluster: 'x', original_cluster: 'q', job: 'j' }, value: [1, '2'] }] } }, [''], 'a');
    expect(() => unionAnswer([collide], 'cluster', 'vector', [])).toThrow(EvaluationError);
    // Parts without the label (a leaf that drops it): the same set from two shards.
    const bare = (t: number) => part({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { job: 'j' }, values: [[t, '1']] }] } }, [''], null);
    expect(() => unionAnswer([bare(1), bare(1)], 'cluster', 'matrix', [])).toThrow('vector cannot contain metrics with the same labelset');
    // At different steps they are one series' samples as far as Prometheus can tell: no error.
    expect(() => unionAnswer([bare(1), bare(2)], 'cluster', 'matrix', [])).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { LabelInserter } from '../../lib/merge/shard-label.ts';

function run(text: string, chunkSize: number, value = 'a'): string {
  const bytes = Buffer.from(text);
  const inserter = new LabelInserter('cluster', value);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) out.push(...inserter.push(bytes.subarray(i, i + chunkSize)));
  return Buffer.concat([...out, inserter.end()]).toString();
}

const ANSWER = JSON.stringify({
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      { metric: { __name__: 'up', job: '"metric":{ in a value' }, values: [[1, '1']] },
      { metric: {}, values: [[1, '2']] },
      { metric: { instance: 'i' }, values: [[1, '3'], [2, '4']] },
    ],
  },
});

describe('LabelInserter', () => {
  it('adds the label to every series, whatever the chunking', () => {
    const expected = JSON.parse(ANSWER);
    for (const s of expected.data.result) s.metric.cluster = 'a';
    for (const size of [1, 2, 3, 7, 10, 11, 64, 100_000]) {
      const out = run(ANSWER, size);
      expect(JSON.parse(out), `chunk size ${size}`).toEqual(expected);
    }
  });

  it('escapes the value as JSON', () => {
    const out = run(ANSWER, 5, 'eu"west\\1\n');
    expect(JSON.parse(out).data.result[1].metric).toEqual({ cluster: 'eu"west\\1\n' });
  });

  it('leaves answers without series untouched', () => {
    const scalar = '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}';
    expect(run(scalar, 3)).toBe(scalar);
  });
});

import { describe, expect, it } from 'vitest';
import { insertShardLabel } from '../../lib/merge/shard-label.ts';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

async function run(text: string, chunkSize: number, value = 'a'): Promise<string> {
  const bytes = Buffer.from(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return new Response(insertShardLabel(streamOf(chunks), 'cluster', value)).text();
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

describe('insertShardLabel', () => {
  it('adds the label to every series, whatever the chunking', async () => {
    const expected = JSON.parse(ANSWER);
    for (const s of expected.data.result) s.metric.cluster = 'a';
    for (const size of [1, 2, 3, 7, 10, 11, 64, 100_000]) {
      const out = await run(ANSWER, size);
      expect(JSON.parse(out), `chunk size ${size}`).toEqual(expected);
    }
  });

  it('escapes the value as JSON', async () => {
    const out = await run(ANSWER, 5, 'eu"west\\1\n');
    expect(JSON.parse(out).data.result[1].metric).toEqual({ cluster: 'eu"west\\1\n' });
  });

  it('leaves answers without series untouched', async () => {
    const scalar = '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}';
    expect(await run(scalar, 3)).toBe(scalar);
  });
});

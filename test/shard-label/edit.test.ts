// The streaming shard label editor against any valid JSON a collector may send: whitespace between
// any tokens, keys in any order and in escaped spellings, look-alikes inside strings and elsewhere,
// series that already carry the shard label, and every chunking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LabelSet } from '../../lib/labelsets.ts';
import { QueryAnswerEditor, withShardLabel } from '../../lib/shard-label/edit.ts';

/** `label` null: the editor only checks the head; `shard` null: it translates without adding the label. */
function edit(text: string, chunkSize: number, shard: string | null = 'a', label: string | null = 'cluster'): { out: string; editor: QueryAnswerEditor } {
  const bytes = Buffer.from(text);
  const editor = new QueryAnswerEditor(label, shard);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) out.push(...editor.push(bytes.subarray(i, i + chunkSize)));
  out.push(editor.end());
  return { out: Buffer.concat(out).toString(), editor };
}

interface Answer { status: string; data: { resultType: string; result: { metric: LabelSet; [k: string]: unknown }[] }; [k: string]: unknown }

/** The answer as the rule says the router must pass it on: every series' labels through withShardLabel. */
function expected(answer: Answer, shard: string | null, label = 'cluster'): Answer {
  const copy = structuredClone(answer);
  for (const s of copy.data.result) s.metric = withShardLabel(s.metric, label, shard);
  return copy;
}

const ANSWER: Answer = {
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      { metric: { __name__: 'up', job: '"metric":{ in a value' }, values: [[1, '1']] },
      { metric: {}, values: [[1, '2']] },
      { metric: { instance: 'i', 'we\\ird"key': 'x\\"y' }, values: [[1, '3'], [2, '4']] },
    ],
  },
};

const CHUNK_SIZES = [1, 2, 3, 7, 10, 11, 64, 100_000];

describe('QueryAnswerEditor', () => {
  it('adds the label to every series, whatever the chunking', () => {
    for (const size of CHUNK_SIZES) {
      const { out, editor } = edit(JSON.stringify(ANSWER), size);
      expect(JSON.parse(out), `chunk size ${size}`).toEqual(expected(ANSWER, 'a'));
      expect(editor.headChecked).toBe(true);
    }
  });

  it('reads JSON with whitespace between any tokens (which used to pass without any label)', () => {
    for (const text of [
      JSON.stringify(ANSWER, null, 2),
      JSON.stringify(ANSWER, null, '\t').replaceAll('\n', '\r\n'),
      JSON.stringify(ANSWER).replaceAll('":', '" : ').replaceAll(',', ' ,\n ').replaceAll('{', '{ ').replaceAll('[', '[ '),
    ]) {
      for (const size of CHUNK_SIZES) expect(JSON.parse(edit(text, size).out), `${size}: ${text.slice(0, 60)}`).toEqual(expected(JSON.parse(text) as Answer, 'a'));
    }
  });

  it('finds keys in any order and spelling, and edits only the label sets of data.result', () => {
    const text = '{"d\\u0061ta":{"result":[{"values":[[1,"1"]],"\\u006detric":{"job":"x"}}],"resultType":"matrix"},'
      + '"stats":{"result":[{"metric":{"a":"b"}}]},"metric":{"c":"d"},"status":"succ\\u0065ss"}';
    for (const size of CHUNK_SIZES) {
      const { out, editor } = edit(text, size);
      const parsed = JSON.parse(out);
      expect(parsed.data.result[0].metric).toEqual({ cluster: 'a', job: 'x' });
      expect(parsed.stats).toEqual({ result: [{ metric: { a: 'b' } }] });
      expect(parsed.metric).toEqual({ c: 'd' });
      expect(editor.headChecked).toBe(true);
    }
  });

  it('applies one rule to series that carry the shard label already: the router value, theirs as original_cluster, each key once', () => {
    const own: Answer = {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { cluster: 'collector' }, value: [1, '1'] },
          { metric: { cluster: 'first', job: 'x' }, value: [1, '2'] },
          { metric: { a: '1', cluster: 'middle', b: '2' }, value: [1, '3'] },
          { metric: { a: '1', cluster: 'last' }, value: [1, '4'] },
        ],
      },
    };
    // Twice, and spelled with escapes: still the shard label.
    const texts = [JSON.stringify(own), JSON.stringify(own, null, 1), JSON.stringify(own).replace('{"cluster":"collector"}', '{"cluster":"x", "clust\\u0065r" : "y"}')];
    for (const text of texts) {
      for (const size of CHUNK_SIZES) {
        const { out } = edit(text, size);
        const parsed = JSON.parse(out) as Answer;
        expect(parsed, `${size}: ${text}`).toEqual(expected(JSON.parse(text) as Answer, 'a'));
        // JSON.parse keeps the last of duplicate keys: count them in the text itself.
        for (const piece of out.split('"metric"').slice(1)) {
          expect(piece.split('}')[0]!.match(/"cluster"/g)).toHaveLength(1);
          expect(piece.split('}')[0]!.match(/"original_cluster"/g)).toHaveLength(1);
        }
      }
    }
  });

  it('the rule: the router\'s value, the collector\'s own kept as original_cluster, its own original_cluster not shown', () => {
    expect(withShardLabel({ cluster: 'collector', job: 'x' }, 'cluster', 'a')).toEqual({ cluster: 'a', job: 'x', original_cluster: 'collector' });
    expect(withShardLabel({ job: 'x' }, 'cluster', 'a')).toEqual({ cluster: 'a', job: 'x' });
    expect(withShardLabel({ original_cluster: 'older', job: 'x' }, 'cluster', 'a')).toEqual({ cluster: 'a', job: 'x' });
    expect(withShardLabel({ cluster: 'own', original_cluster: 'older' }, 'cluster', 'a')).toEqual({ cluster: 'a', original_cluster: 'own' });
    // Where the router adds no label (the answer is exact as the collector computed it): the label the
    // collector attached under the router's name is the shard label, its own cluster the original.
    expect(withShardLabel({ __prome_route_shard__: 'b', cluster: 'own' }, 'cluster', null)).toEqual({ cluster: 'b', original_cluster: 'own' });
    expect(withShardLabel({ cluster: 'own', job: 'x' }, 'cluster', null)).toEqual({ job: 'x', original_cluster: 'own' });
    expect(withShardLabel({ job: 'x' }, 'cluster', null)).toEqual({ job: 'x' });
  });

  it('escapes the value as JSON', () => {
    const { out } = edit(JSON.stringify(ANSWER), 5, 'eu"west\\1\n');
    expect(JSON.parse(out).data.result[1].metric).toEqual({ cluster: 'eu"west\\1\n' });
  });

  it('leaves answers without series untouched', () => {
    const scalar = '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}';
    expect(edit(scalar, 3).out).toBe(scalar);
  });

  it.each([
    ['{"status":"error","errorType":"bad_data","error":"x"}', 'status "error" in a 2xx answer'],
    ['{"status":"success","data":{"resultType":"banana","result":[]}}', 'unknown resultType "banana"'],
    ['{"status":"success","data":{"resultType":"vector","result":{}}}', '"result" is not an array'],
    ['{"status":"success","data":{"resultType":"vector","result":[{"metric":null,"value":[1,"1"]}]}}', '"metric" is not an object'],
    ['{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}', 'a label value is not a string'],
    ['[1]', 'the answer is not a JSON object'],
  ])('finds what is wrong with %s', (text, problem) => {
    for (const shard of ['a', null]) {
      expect(edit(text, 4, shard).editor.problem).toBe(problem);
      expect(edit(text, 4, shard, null).editor.problem).toBe(problem);
    }
  });

  it('is not done with the head until it has the status, the result type and the result', () => {
    const { editor } = edit('{"status":"success","data":{"resultType":"vector"', 7);
    expect(editor.problem).toBeNull();
    expect(editor.headChecked).toBe(false);
  });
});

// Any label sets, serialised with any whitespace and any escaping, chunked anyhow.
const labelName = fc.oneof(fc.constantFrom('cluster', 'original_cluster', '__prome_route_shard__', '__name__', 'job', 'metric', 'value'), fc.string({ maxLength: 6 }));
const labelSet = fc.dictionary(labelName, fc.string({ maxLength: 8 }), { maxKeys: 5 });
const answer = fc.record({
  resultType: fc.constantFrom('vector', 'matrix'),
  metrics: fc.array(labelSet, { maxLength: 6 }),
  order: fc.constantFrom('status-first', 'data-first'),
});

/** JSON text of `value` with whitespace from `spaces` between tokens and \u escapes where `escape` says. */
function serialise(value: unknown, spaces: () => string, escape: () => boolean): string {
  const str = (s: string) => {
    const plain = JSON.stringify(s);
    if (!escape()) return plain;
    return `"${[...s].map((ch) => (ch.length === 1 && ch !== '"' && ch !== '\\' && ch >= ' ' ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(ch).slice(1, -1))).join('')}"`;
  };
  if (typeof value === 'string') return str(value);
  if (Array.isArray(value)) return `[${spaces()}${value.map((v) => serialise(v, spaces, escape)).join(`${spaces()},${spaces()}`)}${spaces()}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([k, v]) => `${str(k)}${spaces()}:${spaces()}${serialise(v, spaces, escape)}`);
    return `{${spaces()}${members.join(`${spaces()},${spaces()}`)}${spaces()}}`;
  }
  return JSON.stringify(value);
}

describe('QueryAnswerEditor on generated answers', () => {
  it('passes on valid JSON with the rule applied, whatever the whitespace, escapes and chunking', () => {
    fc.assert(fc.property(answer, fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r\n  '), { minLength: 1 }), fc.array(fc.boolean(), { minLength: 1 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom('a', null),
      ({ resultType, metrics, order }, ws, escapes, chunkSize, shard) => {
        const result = metrics.map((metric, i) => (resultType === 'vector' ? { metric, value: [i, String(i)] } : { metric, values: [[i, String(i)]] }));
        const data = { resultType, result };
        const doc: Answer = order === 'status-first' ? { status: 'success', data } : { data, status: 'success' } as Answer;
        let w = 0;
        let e = 0;
        const text = serialise(doc, () => ws[w++ % ws.length]!, () => escapes[e++ % escapes.length]!);
        const { out, editor } = edit(text, chunkSize, shard);
        expect(JSON.parse(out)).toEqual(expected(JSON.parse(text) as Answer, shard));
        expect(editor.problem).toBeNull();
        expect(editor.headChecked).toBe(true);
      }), { numRuns: Number(process.env.PROPERTY_RUNS ?? 300), ...(process.env.PROPERTY_RUNS === undefined ? { seed: 20261203 } : {}) });
  });
});

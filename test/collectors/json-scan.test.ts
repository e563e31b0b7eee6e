// The answer scanner against JSON.parse as the judge: it accepts exactly the JSON that JSON.parse
// accepts (up to the nesting bound), and the places it reports hold what JSON.parse finds there.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSamples, SampleShapeError } from '../../lib/collectors/decode.ts';
import { AnswerShapeError, JsonSyntaxError, scanAnswer, type Span } from '../../lib/collectors/json-scan.ts';
import { translatedLabels } from '../../lib/shards/shard-label-names.ts';
import { spaced } from '../support/spaced-json.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
const SEED = process.env.PROPERTY_RUNS === undefined ? 20261203 : undefined;
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };

const slice = (body: Buffer, span: Span) => body.subarray(span.from, span.to).toString('utf8');

function accepts(text: string): boolean {
  try {
    scanAnswer(Buffer.from(text), 'cluster');
    return true;
  } catch (err) {
    // Valid JSON of another shape than an answer's (`"metric": 1` under data.result): not what is judged here.
    if (err instanceof AnswerShapeError) return parses(text);
    expect(err).toBeInstanceOf(JsonSyntaxError);
    return false;
  }
}

function parses(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

const whitespace = fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r\n  '), { minLength: 1, maxLength: 8 });

describe('scanAnswer accepts exactly what JSON.parse accepts', () => {
  it('any JSON object, written with any whitespace', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 })), whitespace, (value, spaces) => {
      const text = spaced(value, spaces);
      expect(accepts(text)).toBe(true);
    }), params);
  });

  it('mutated JSON: one byte changed, removed or inserted', () => {
    const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'delete', 'insert'), byte: fc.constantFrom(...'{}[]",:0-.eE+\\ atfnu/x\n'.split('')) });
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), mutation, (value, m) => {
      const text = JSON.stringify(value);
      const at = m.at % (text.length + 1);
      const mutated = m.kind === 'set' ? text.slice(0, at) + m.byte + text.slice(at + 1)
        : m.kind === 'delete' ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + m.byte + text.slice(at);
      expect(accepts(mutated), mutated).toBe(parses(mutated));
    }), params);
  });

  it.each([
    '', '[]', '1', '"x"', '{"a":1,}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":-}', '{"a":"\\x"}', '{"a":"\u0001"}',
    '{"a":tru}', '{"a":[1,]}', '{"a":1}x', '{"a" 1}', '{a:1}', '{"a":"\\u12g4"}', '{"a":+1}',
  ])('refuses %j', (text) => {
    expect(accepts(text)).toBe(false);
    expect(parses(text)).toBe(false);
  });

  it('refuses nesting deeper than any answer has (a JSON bomb), without exhausting the stack', () => {
    const bomb = `{"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(() => scanAnswer(Buffer.from(bomb), 'cluster')).toThrow(AnswerShapeError);
  });
});

describe('scanAnswer finds the parts of a query answer', () => {
  const translated = translatedLabels('cluster');
  const labels = fc.dictionary(fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom(...translated)), fc.string());
  const point = fc.tuple(fc.double({ noNaN: true, min: 0, max: 4e9 }), fc.double()).map(([t, v]) => [t, String(v)] as const);
  const matrix = fc.array(fc.record({ metric: labels, values: fc.array(point, { maxLength: 5 }) }), { maxLength: 6 });
  const vector = fc.array(fc.record({ metric: labels, value: point }), { maxLength: 6 });

  it('matrices and vectors: every series, its labels and samples, whether it has labels the shard label rule translates', () => {
    fc.assert(fc.property(fc.oneof(matrix.map((r) => ['matrix', r] as const), vector.map((r) => ['vector', r] as const)), whitespace,
      fc.array(fc.string(), { maxLength: 2 }), ([resultType, result], spaces, warnings) => {
        const envelope = { status: 'success', data: { resultType, result }, ...(warnings.length > 0 ? { warnings } : {}) };
        const body = Buffer.from(spaced(envelope, spaces));
        const scanned = scanAnswer(body, 'cluster');
        expect(scanned.status).toBe('success');
        expect(scanned.resultType).toBe(resultType);
        expect(scanned.warnings).toEqual(warnings);
        expect(JSON.parse(slice(body, scanned.result!))).toEqual(result);
        expect(scanned.series.length).toBe(result.length);
        scanned.series.forEach((s, i) => {
          const expected = result[i]!;
          expect(JSON.parse(slice(body, s.metric))).toEqual(expected.metric);
          expect(JSON.parse(slice(body, s.samples!))).toEqual('values' in expected ? expected.values : expected.value);
          expect(s.translated).toBe(Object.keys(expected.metric).some((name) => translated.includes(name)));
        });
      }), params);
  });

  it('errors and scalars', () => {
    const error = scanAnswer(Buffer.from('{"status":"error","errorType":"bad_data","error":"parse error"}'), 'cluster');
    expect(error).toMatchObject({ status: 'error', errorType: 'bad_data', error: 'parse error', resultType: null, series: [] });
    const body = Buffer.from('{"status":"success","data":{"result":[1.5,"2"],"resultType":"scalar"}}');
    const scalar = scanAnswer(body, 'cluster');
    expect(scalar.resultType).toBe('scalar');
    expect(slice(body, scalar.result!)).toBe('[1.5,"2"]');
  });

  it('spans end at the value\'s last byte, whatever space follows', () => {
    const body = Buffer.from('{"status":"success","data":{"resultType":"vector","result":[{"metric":{ } ,"value":[ 1 , "2" ]\n }]}}');
    const s = scanAnswer(body, 'cluster').series[0]!;
    expect(slice(body, s.metric)).toBe('{ }');
    expect(slice(body, s.samples!)).toBe('[ 1 , "2" ]');
  });

  it('a translated label written with escapes is still one', () => {
    for (const key of ['clus\\u0074er', 'original_clus\\u0074er', '__prome_route_s\\u0068ard__']) {
      const body = Buffer.from(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"${key}":"x"},"value":[1,"1"]}]}}`);
      expect(scanAnswer(body, 'cluster').series[0]!.translated, key).toBe(true);
    }
    const plain = Buffer.from('{"status":"success","data":{"resultType":"vector","result":[{"metric":{"clusters":"x"},"value":[1,"1"]}]}}');
    expect(scanAnswer(plain, 'cluster').series[0]!.translated).toBe(false);
  });
});

describe('decodeSamples', () => {
  const everyMs = (ms: number) => ms;
  it('decodes matrices and vectors onto a grid, leaving out samples off the grid', () => {
    const body = Buffer.from('{"values":[[1, "1.5"] , [2,"NaN"],[3,"+Inf"],[4.5,"-Inf"]],"value":[ 7 , "1e-07" ]}');
    const matrix = decodeSamples(body, { from: 10, to: body.indexOf(',"value"') }, (ms) => (ms % 1000 === 0 ? ms / 1000 : -1));
    expect([...matrix.steps]).toEqual([1, 2, 3]);
    expect([...matrix.values]).toEqual([1.5, NaN, Infinity]);
    const vector = decodeSamples(body, { from: body.indexOf('[ 7'), to: body.length - 1 }, everyMs);
    expect([...vector.steps]).toEqual([7000]);
    expect([...vector.values]).toEqual([1e-7]);
  });

  it('reads sample times to the millisecond however they are written', () => {
    const body = Buffer.from('[[1700000000.123,"1"],[1700000000.1,"2"],[1700000000,"3"],[1.7000000001e9,"4"],[-1.5,"5"],[0.0005,"6"]]');
    const seen: number[] = [];
    decodeSamples(body, { from: 0, to: body.length }, (ms) => seen.push(ms));
    expect(seen).toEqual([1700000000123, 1700000000100, 1700000000000, 1700000000100, -1500, 1]);
  });

  it('scans samples with escapes or spaces like any other JSON', () => {
    const body = Buffer.from('{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"\\u0031"]},{"metric":{},"value":[ 2 ,"3"]}]}}');
    const scanned = scanAnswer(body, 'cluster');
    expect(scanned.series.map((s) => JSON.parse(slice(body, s.samples!)))).toEqual([[1, '1'], [2, '3']]);
  });

  it.each(['[[1,2]]', '[[1,"x"]]', '[["1","2"]]', '[[1,"2",3]]', '[1]', '[[1,"a\\"b"]]'])('refuses %s', (text) => {
    const body = Buffer.from(text);
    expect(() => decodeSamples(body, { from: 0, to: body.length }, everyMs)).toThrow(SampleShapeError);
  });
});

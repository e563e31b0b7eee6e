// Go's number and string renderings against a real Prometheus 2.42: the expected strings are the
// ones Prometheus prints for scalar and vector values and in its error messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSampleValue, formatValue } from '../../lib/engine/format.ts';
import { formatFloat, quoteGo } from '../../lib/engine/go/format.ts';
import { EVAL_TIME, OPS_OPENMETRICS, READY_QUERY } from './data/ops-dataset.ts';
import { startOracle } from './oracle.ts';
import type { OracleServer } from './oracle.ts';

let oracle: OracleServer;
beforeAll(async () => {
  oracle = await startOracle(OPS_OPENMETRICS, READY_QUERY, EVAL_TIME);
});
afterAll(async () => {
  await oracle?.stop();
});

/** A PromQL expression for `v`: the literal JavaScript prints parses (Go ParseFloat) to the same float. */
function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Deterministic doubles across the whole range: random bit patterns (subnormals included) and decimal-ish values. */
function sampleValues(): number[] {
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const view = new DataView(new ArrayBuffer(8));
  const out: number[] = [];
  while (out.length < 150) {
    view.setUint32(0, next());
    view.setUint32(4, next());
    const v = view.getFloat64(0);
    if (Number.isFinite(v)) out.push(v);
  }
  for (let i = 0; i < 100; i++) out.push(Number(`${(next() % 100000) / 1000}e${(next() % 60) - 30}`));
  return out;
}

const NAMED: [string, number][] = [
  ['1e21', 1e21], ['1e-7', 1e-7], ['0.1+0.2', 0.1 + 0.2], ['-0', -0], ['123456789012345680000', 123456789012345680000],
  ['5e-324', 5e-324], ['-5e-324', -5e-324], ['1.7976931348623157e308', 1.7976931348623157e308], ['100000', 100000],
  ['1e20', 1e20], ['999999999999999900000', 999999999999999900000], ['123.456e-30', 123.456e-30], ['0.000001', 0.000001],
  ['9.99999e-7', 9.99999e-7], ['1/3', 1 / 3], ['2/3', 2 / 3], ['1e15+0.3', 1e15 + 0.3], ['-1e-320', -1e-320],
  ['9007199254740993', 9007199254740993], ['0.1*3', 0.1 * 3], ['1e-5', 1e-5], ['42', 42], ['0', 0], ['-7.25', -7.25],
  ['NaN', NaN], ['Inf', Infinity], ['-Inf', -Infinity], ['2^0.5', Math.SQRT2], ['1e300*1e10', Infinity],
];

const ALL: [string, number][] = [...NAMED, ...sampleValues().map((v): [string, number] => [literal(v), v])];

describe('formatValue: scalars as Prometheus prints them', () => {
  it.each(ALL)('%s', async (expr, v) => {
    const body = await oracle.query(expr, EVAL_TIME);
    expect(body.data?.resultType).toBe('scalar');
    expect(formatValue(v)).toBe((body.data!.result as [number, string])[1]);
  });
});

describe('formatSampleValue: vector samples as Prometheus prints them', () => {
  it.each(ALL)('vector(%s)', async (expr, v) => {
    const body = await oracle.query(`vector(${expr})`, EVAL_TIME);
    const [sample] = body.data!.result as { value: [number, string] }[];
    expect(formatSampleValue(v)).toBe(sample!.value[1]);
  });
});

describe('formatFloat(v, \'g\'): %v in "Scalar value %v overflows int64"', () => {
  it.each([1e19, -1e19, 9223372036854775807, 9.3e18, 1.5e300, -2.5e25, 1.2345678e21, 123456789e15, 1e100, NaN, Infinity, -Infinity])(
    '%s',
    async (v) => {
      const body = await oracle.query(`topk(${literal(v)}, req)`, EVAL_TIME);
      expect(body.error).toBe(`Scalar value ${formatFloat(v, 'g')} overflows int64`);
    },
  );
});

describe('quoteGo: %q in "invalid label name %q"', () => {
  it.each(['1x', '', 'a-b', 'ä', 'a\nb', 'tab\there', 'q"uote', 'back\\slash', '\x01', '\x07\b\f\r\v', '\x7f', '\u200b', '\u00ad', '😀', 'é\u0301', '\u{e0001}', '\u2028'])(
    '%j',
    async (name) => {
      const body = await oracle.query(`count_values(${JSON.stringify(name)}, req)`, EVAL_TIME);
      expect(body.error).toBe(`invalid label name ${quoteGo(name)}`);
    },
  );
});

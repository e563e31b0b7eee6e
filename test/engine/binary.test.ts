// The router's binary operators against a real Prometheus 2.42: both operands come from Prometheus,
// the expected answer (or error) is Prometheus's own answer to the same expression.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BinaryOp, Matching as VectorMatching } from '../../lib/engine/expr.ts';
import { scalarScalarStep, vectorScalarStep, vectorVectorStep } from './steps.ts';
import { formatValue } from '../../lib/engine/format.ts';
import { EvaluationError } from '../../lib/errors.ts';
import type { Vector } from './oracle.ts';
import { EVAL_TIME, OPS_OPENMETRICS, READY_QUERY } from './data/ops-dataset.ts';
import { expectSameVector, sameFloat, startOracle } from './oracle.ts';
import type { OracleServer } from './oracle.ts';

let oracle: OracleServer;
beforeAll(async () => {
  oracle = await startOracle(OPS_OPENMETRICS, READY_QUERY, EVAL_TIME);
});
afterAll(async () => {
  await oracle?.stop();
});

const ARITHMETIC: BinaryOp[] = ['+', '-', '*', '/', '%', '^', 'atan2'];
const COMPARISON: BinaryOp[] = ['==', '!=', '>', '<', '>=', '<='];
/** Every non-set operator, comparisons both filtering and with bool. */
const VARIANTS: [BinaryOp, boolean][] = [
  ...ARITHMETIC.map((op): [BinaryOp, boolean] => [op, false]),
  ...COMPARISON.flatMap((op): [BinaryOp, boolean][] => [[op, false], [op, true]]),
];

/** A matching spec, written as PromQL modifiers. */
interface Spec {
  on?: string[];
  ignoring?: string[];
  group?: 'left' | 'right';
  include?: string[];
}

function modifiers(spec: Spec): string {
  let out = '';
  if (spec.on) out += ` on(${spec.on.join(', ')})`;
  if (spec.ignoring) out += ` ignoring(${spec.ignoring.join(', ')})`;
  if (spec.group) out += ` group_${spec.group}${spec.include ? `(${spec.include.join(', ')})` : ''}`;
  return out;
}

function matching(spec: Spec, setOperator: boolean): VectorMatching {
  const card = setOperator ? 'many-to-many' : spec.group === 'left' ? 'many-to-one' : spec.group === 'right' ? 'one-to-many' : 'one-to-one';
  return { card, on: spec.on !== undefined, labels: spec.on ?? spec.ignoring ?? [], include: spec.include ?? [] };
}

/** Runs `run` and compares with Prometheus's answer to `query`: the same vector, or the same error. */
async function compare(query: string, run: () => Promise<Vector>, exact = true): Promise<void> {
  const body = await oracle.query(query, EVAL_TIME);
  if (body.status === 'error') {
    expect(body.errorType, `${query}: ${body.error}`).toBe('execution');
    let thrown: unknown;
    try {
      await run();
    } catch (err) {
      thrown = err;
    }
    expect(thrown, `${query} should fail with: ${body.error}`).toBeInstanceOf(EvaluationError);
    expect((thrown as EvaluationError).message).toBe(body.error);
    return;
  }
  expectSameVector(await run(), await oracle.vector(query, EVAL_TIME), exact);
}

// --- vector op vector --------------------------------------------------------------------------------

/** Operand pairs and the matchings to try on them (errors included: Prometheus decides). */
const PAIRS: [string, string, Spec[]][] = [
  ['req', 'limit', [
    { on: ['job'], group: 'left' },
    { on: ['job'], group: 'left', include: ['team'] },
    { ignoring: ['instance', 'code'], group: 'left', include: ['team'] },
    { on: ['job'] }, // req has several series per job: one-to-one fails unless filtered away
    { ignoring: ['instance', 'code'] },
    { on: ['job'], group: 'right' }, // the "one" side (req) has duplicates
    { on: ['job'], group: 'left', include: ['instance'] }, // limit lacks instance: removed, results collide
  ]],
  ['limit', 'req', [
    { on: ['job'], group: 'right' },
    { on: ['job'], group: 'right', include: ['team'] },
    { on: ['job'], group: 'right', include: ['team', 'nope'] },
    { on: ['job'], group: 'left' },
    { on: ['job'] },
  ]],
  ['req', 'limit_dup', [
    { on: ['job'], group: 'left' },
    { on: ['job'] },
    { on: ['job', 'zone'], group: 'left' }, // nothing matches, so no duplicate error either
    { ignoring: ['zone'], group: 'left' },
  ]],
  ['limit_dup', 'req', [{ on: ['job'], group: 'right' }, { on: ['job'] }]],
  ['limit', 'limit_dup', [{ on: ['job'] }, { on: ['job'], group: 'left' }, { ignoring: ['team', 'zone'] }]],
  ['twin_a', 'twin_b', [
    {},
    { on: ['instance'] },
    { on: ['instance', 'job'] },
    { ignoring: ['job'] },
    { ignoring: ['instance'] },
    { on: ['job'] },
    { on: ['__name__'] },
    { ignoring: ['__name__'] },
    { on: ['job'], group: 'left' },
    { on: ['job'], group: 'right' },
    { ignoring: [], group: 'left' },
    { ignoring: [], group: 'right', include: ['instance'] },
    { on: [] },
  ]],
  ['req', 'req', [
    {},
    { on: ['job'] },
    { ignoring: ['code'] },
    { on: ['instance', 'code'] },
    { on: ['instance', 'code', 'job'], group: 'left' },
    { on: ['job'], group: 'left', include: ['code'] },
  ]],
  ['req', 'req{instance="i5"}', [{ on: ['job'], group: 'left', include: ['code'] }, { on: ['job'], group: 'left', include: ['code', 'instance'] }]],
  ['req{instance="i5"}', 'req', [{ on: ['job'], group: 'right', include: ['code'] }]],
  ['req', 'twin_a', [{ ignoring: ['code'], group: 'left' }, { ignoring: ['code'] }, { on: ['instance'], group: 'left', include: ['job'] }]],
  ['{__name__=~"twin_a|twin_b"}', 'limit', [{ on: ['job'], group: 'left' }, { on: ['job'], group: 'left', include: ['team'] }]],
  ['{__name__=~"twin_a|twin_b"}', 'twin_a', [{}, { on: ['job', 'instance'], group: 'left' }, { on: ['__name__', 'job', 'instance'] }]],
  ['vals', 'vals', [{}, { ignoring: ['i'], group: 'left' }, { on: ['g', 'i'] }]],
  ['vals', 'vals{g="single"}', [{ on: [], group: 'left' }, { on: [] }, { ignoring: ['g', 'i'], group: 'left' }]],
  ['vals{g="single"}', 'vals', [{ on: [], group: 'right' }, { ignoring: ['i', 'g'], group: 'right', include: ['i'] }]],
  ['req', 'absent_metric', [{ on: ['job'], group: 'left' }, { on: ['job'] }]],
  ['absent_metric', 'limit_dup', [{ on: ['job'], group: 'left' }, { on: ['job'] }]],
  ['limit_dup', 'absent_metric', [{ on: ['job'], group: 'right' }]],
];

describe('vector op vector', () => {
  const cases = PAIRS.flatMap(([lhs, rhs, specs]) =>
    specs.flatMap((spec) =>
      VARIANTS.map(([op, bool]) => [`${lhs} ${op}${bool ? ' bool' : ''}${modifiers(spec)} ${rhs}`, lhs, rhs, op, bool, spec] as const),
    ),
  );
  it.each(cases)('%s', async (query, lhs, rhs, op, bool, spec) => {
    const [l, r] = await Promise.all([oracle.vector(lhs, EVAL_TIME), oracle.vector(rhs, EVAL_TIME)]);
    await compare(query, () => vectorVectorStep(op, l, r, matching(spec, false), bool), op !== '^');
  });
});

const SET_PAIRS: [string, string, Spec[]][] = [
  ['req', 'limit', [{}, { on: ['job'] }, { ignoring: ['instance', 'code'] }, { ignoring: ['instance', 'code', 'team'] }]],
  ['limit', 'req', [{ on: ['job'] }, { ignoring: ['instance', 'code', 'team'] }]],
  ['twin_a', 'twin_b', [{}, { on: ['instance'] }, { ignoring: ['instance'] }, { on: [] }, { on: ['__name__'] }, { ignoring: ['job'] }]],
  ['req', 'req{code="200"}', [{}, { on: ['job'] }, { ignoring: ['code'] }]],
  ['req{code="200"}', 'req', [{}, { on: ['instance'] }]],
  ['limit_dup', 'limit_dup', [{ on: ['job'] }, {}]],
  ['{__name__=~"twin_a|twin_b"}', 'twin_a', [{}, { on: ['__name__', 'job'] }]],
  ['req', 'absent_metric', [{}]],
  ['absent_metric', 'req', [{}]],
  ['vals', 'vals{g="nan"}', [{ on: ['i'] }, { ignoring: ['g'] }]],
];

describe('set operators', () => {
  const cases = SET_PAIRS.flatMap(([lhs, rhs, specs]) =>
    specs.flatMap((spec) => (['and', 'or', 'unless'] as const).map((op) => [`${lhs} ${op}${modifiers(spec)} ${rhs}`, lhs, rhs, op, spec] as const)),
  );
  it.each(cases)('%s', async (query, lhs, rhs, op, spec) => {
    const [l, r] = await Promise.all([oracle.vector(lhs, EVAL_TIME), oracle.vector(rhs, EVAL_TIME)]);
    await compare(query, () => vectorVectorStep(op, l, r, matching(spec, true), false));
  });
});

// --- vector op scalar --------------------------------------------------------------------------------

const SCALARS: [string, number][] = [
  ['2', 2], ['0', 0], ['-1', -1], ['0.5', 0.5], ['-0', -0], ['3', 3], ['-2.5', -2.5], ['1e308', 1e308],
  ['NaN', NaN], ['Inf', Infinity], ['-Inf', -Infinity],
];

describe('vector op scalar', () => {
  const cases = ['vals', 'req'].flatMap((vector) =>
    SCALARS.flatMap(([literal, scalar]) =>
      VARIANTS.flatMap(([op, bool]) => {
        const o = `${op}${bool ? ' bool' : ''}`;
        return [
          [`${vector} ${o} (${literal})`, vector, op, bool, scalar, false] as const,
          [`(${literal}) ${o} ${vector}`, vector, op, bool, scalar, true] as const,
        ];
      }),
    ),
  );
  it.each(cases)('%s', async (query, vector, op, bool, scalar, scalarOnLeft) => {
    const v = await oracle.vector(vector, EVAL_TIME);
    const integerPowers = op !== '^' || (!scalarOnLeft && (Number.isInteger(scalar) || !Number.isFinite(scalar)));
    await compare(query, () => vectorScalarStep(op, v, scalar, scalarOnLeft, bool), integerPowers);
  });

  // Dropping the metric name can leave two samples with one label set.
  it.each(VARIANTS)('{__name__=~"twin_a|twin_b"} %s 1 (bool: %s)', async (op, bool) => {
    const v = await oracle.vector('{__name__=~"twin_a|twin_b"}', EVAL_TIME);
    await compare(`{__name__=~"twin_a|twin_b"} ${op}${bool ? ' bool' : ''} 1`, () => vectorScalarStep(op, v, 1, false, bool));
  });
});

// --- scalar op scalar --------------------------------------------------------------------------------

/** Values whose Go results differ from JavaScript's Math.pow / Math.atan2 in the last bits, and special values. */
const SCALAR_VALUES: [string, number][] = [
  ['2', 2], ['-3', -3], ['0', 0], ['-0', -0], ['0.5', 0.5], ['1.1', 1.1], ['7', 7], ['-1', -1], ['1', 1],
  ['1e308', 1e308], ['1e-300', 1e-300], ['0.3333333333333333', 1 / 3], ['29.918217658996582', 29.918217658996582],
  ['-13', -13], ['64', 64], ['NaN', NaN], ['Inf', Infinity], ['-Inf', -Infinity],
];

describe('scalar op scalar', () => {
  const cases = SCALAR_VALUES.flatMap(([la, a]) =>
    SCALAR_VALUES.flatMap(([lb, b]) =>
      [...ARITHMETIC.map((op) => [op, false] as const), ...COMPARISON.map((op) => [op, true] as const)].map(
        ([op, bool]) => [`(${la}) ${op}${bool ? ' bool' : ''} (${lb})`, op, a, b, bool] as const,
      ),
    ),
  );
  it.each(cases)('%s', async (query, op, a, b) => {
    const expected = await oracle.scalar(query, EVAL_TIME);
    const actual = await scalarScalarStep(op, a, b);
    // Non-integer powers may differ in the last bits (Go's math.Pow: see lib/engine/go/math.ts).
    const integerPower = op !== '^' || Number.isInteger(b) || !Number.isFinite(b) || Math.abs(b) === 0.5;
    if (integerPower) expect(formatValue(actual)).toBe(formatValue(expected));
    else expect(sameFloat(actual, expected), `${actual} vs ${expected}`).toBe(true);
  });
});

// The cases above include these; here Prometheus must answer an error, so the dataset keeps
// exercising every matching error (the expected text still comes from Prometheus).
describe('matching errors', () => {
  const cases: [string, string, BinaryOp, string, Spec][] = [
    ['one-to-one with duplicates on the left', 'req', '+', 'limit', { on: ['job'] }],
    ['one-to-one, survives a filter', 'req', '>', 'limit', { on: ['job'] }],
    ['duplicates on the "one" side (right)', 'req', '+', 'limit_dup', { on: ['job'], group: 'left' }],
    ['duplicates on the "one" side (left)', 'req', '+', 'limit', { on: ['job'], group: 'right' }],
    ['duplicates on the right of one-to-one', 'twin_a', '+', 'twin_b', { on: ['job'] }],
    ['colliding group_left results', 'req', '+', 'limit', { on: ['job'], group: 'left', include: ['instance'] }],
    ['group_left results collide without names', '{__name__=~"twin_a|twin_b"}', '-', 'limit', { on: ['job'], group: 'left' }],
  ];
  it.each(cases)('%s', async (_name, lhs, op, rhs, spec) => {
    const query = `${lhs} ${op}${modifiers(spec)} ${rhs}`;
    expect((await oracle.query(query, EVAL_TIME)).status).toBe('error');
    const [l, r] = await Promise.all([oracle.vector(lhs, EVAL_TIME), oracle.vector(rhs, EVAL_TIME)]);
    await compare(query, () => vectorVectorStep(op, l, r, matching(spec, false), false));
  });

  it('vector cannot contain metrics with the same labelset', async () => {
    const query = '{__name__=~"twin_a|twin_b"} * 2';
    expect((await oracle.query(query, EVAL_TIME)).status).toBe('error');
    const v = await oracle.vector('{__name__=~"twin_a|twin_b"}', EVAL_TIME);
    await compare(query, () => vectorScalarStep('*', v, 2, false, false));
  });
});

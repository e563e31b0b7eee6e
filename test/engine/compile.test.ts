// The cross-shard planner (lib/engine/logical-plan.ts, distribute.ts, compile.ts): which subtrees go to
// the shards, as which queries, and what the router evaluates above them. Exactness itself is proven
// against the global Prometheus by the end-to-end suites; this pins down which rewrite takes which
// query, so that a change in placement is a visible, deliberate change.
import { describe, expect, it } from 'vitest';
import { compileQuery, ENGINE_MAJOR } from '../../lib/engine/compile.ts';
import {
  DISTRIBUTION_REWRITES, probeAbsent, pushDownAggregation, pushDownAvg, pushDownLabelSetsOnly, pushDownSeparable, pushDownVariance,
} from '../../lib/engine/distribute.ts';
import type { Expr } from '../../lib/engine/expr.ts';
import { UnsupportedQueryError } from '../../lib/errors.ts';
import { PromQLSyntaxError } from '../../lib/promql/parse.ts';
import { planQuery } from '../../lib/promql/plan.ts';

const SHARDS = ['a', 'b', 'c'];

function compiled(query: string, pushDown = true, spanMs = 0) {
  const plan = planQuery(query, 'cluster', SHARDS);
  plan.checkFor(ENGINE_MAJOR);
  const { expr, leaves } = compileQuery(plan, SHARDS, { pushDown, spanMs });
  return { expr, leaves: leaves.map((l) => ({ id: l.id, query: l.plan.text, partial: l.partial, shards: l.shards, ...(l.raw ? { raw: true } : {}) })) };
}

/** The router's part with each leaf as `#id`, in the shape `prome-route explain` prints. */
function shape(expr: Expr): unknown {
  switch (expr.kind) {
    case 'leaf': return `#${expr.leaf.id}`;
    case 'number': case 'string': return expr.value;
    case 'call': return { [expr.name]: expr.args.map(shape) };
    case 'absent': return { absent: shape(expr.expr), labels: expr.labels };
    case 'aggregate': return { [expr.op]: shape(expr.expr), ...(expr.param === null ? {} : { param: shape(expr.param) }), grouping: expr.grouping };
    case 'mergeMoments': return { [expr.op]: [shape(expr.count), shape(expr.mean), shape(expr.other)] };
    case 'rangeLeaf': return { rangeLeaf: `#${expr.leaf.id}`, rangeMs: expr.rangeMs };
    case 'binary': return { [expr.op]: [shape(expr.lhs), shape(expr.rhs)], matching: expr.matching };
    case 'negate': return { '-': shape(expr.expr) };
    case 'subquery': return { subquery: shape(expr.expr), rangeMs: expr.rangeMs, stepMs: expr.stepMs };
  }
}

const ALL = { without: true, labels: [] };

describe('the distribution rewrites', () => {
  it('are tried in this order at each node', () => {
    expect(DISTRIBUTION_REWRITES).toEqual([pushDownSeparable, probeAbsent, pushDownAggregation, pushDownAvg, pushDownVariance, pushDownLabelSetsOnly]);
  });

  it('pushDownSeparable: a subtree every shard evaluates alone goes whole, its answer the union', () => {
    for (const query of [
      'rate(x[5m])', 'sum by (cluster, job) (rate(x[5m]))', 'x / y', 'x * on (cluster, pod) group_left (node) y',
      'x and ignoring (le) y', 'histogram_quantile(0.9, sum by (cluster, le) (rate(b[5m])))', 'max_over_time(x[10m:1m]) > 2',
      'label_replace(x, "dst", "$1", "src", "(.*)")',
    ]) {
      const { expr, leaves } = compiled(query);
      expect(shape(expr), query).toBe('#0');
      expect(leaves, query).toEqual([{ id: 0, query, partial: false, shards: SHARDS }]);
    }
  });

  it('pushDownSeparable: reads only the shards its selectors read', () => {
    const { leaves } = compiled('rate(x{cluster=~"a|c"}[5m]) or y{cluster="c"}');
    expect(leaves).toEqual([{ id: 0, query: 'rate(x{cluster=~"a|c"}[5m]) or y{cluster="c"}', partial: false, shards: ['a', 'c'] }]);
  });

  it('pushDownAggregation: partial aggregates combined by the router', () => {
    expect(compiled('sum(x)')).toEqual({ expr: expect.anything(), leaves: [{ id: 0, query: 'sum (x)', partial: true, shards: SHARDS }] });
    expect(shape(compiled('sum by (job) (rate(x[5m]))').expr)).toEqual({ sum: '#0', grouping: ALL });
    expect(compiled('count by (job) (x)').leaves[0]!.query).toBe('count by (job) (x)');
    expect(shape(compiled('count by (job) (x)').expr)).toEqual({ sum: '#0', grouping: ALL });
    expect(shape(compiled('count_values("v", x)').expr)).toEqual({ sum: '#0', grouping: ALL });
    const topk = compiled('topk by (job) (3, x)');
    expect(topk.leaves[0]!.query).toBe('topk by (job) (3, x)');
    expect(shape(topk.expr)).toEqual({ topk: '#0', param: 3, grouping: { without: false, labels: ['job'] } });
  });

  it('pushDownAvg and pushDownVariance: from parts that combine exactly', () => {
    // avg without (instance) keeps the shard label: each shard's groups are whole, the query goes whole.
    expect(compiled('avg without (instance) (x)').leaves.map((l) => l.query)).toEqual(['avg without (instance) (x)']);
    const avg = compiled('avg by (job) (x)');
    expect(avg.leaves.map((l) => l.query)).toEqual(['count by (job) (x)', 'avg by (job) (x)', 'sum by (job) (x)']);
    expect(shape(avg.expr)).toEqual({ avg: ['#0', '#1', '#2'] });
    const stddev = compiled('stddev(x)');
    expect(stddev.leaves.map((l) => [l.query, l.partial])).toEqual([['count (x)', true], ['avg (x)', true], ['stdvar (x)', true]]);
    expect(shape(stddev.expr)).toEqual({ stddev: ['#0', '#1', '#2'] });
  });

  it('probeAbsent: the shards only say whether they have series; labels from the matchers', () => {
    const absent = compiled('absent({__name__="x", job="a", env="p", env="q", pod=""})');
    expect(absent.leaves.map((l) => [l.query, l.partial])).toEqual([['count({__name__="x", job="a", env="p", env="q", pod=""})', true]]);
    expect(shape(absent.expr)).toEqual({ absent: '#0', labels: { job: 'a' } });
    // last_over_time keeps each series' labels: count_over_time drops the name and collides.
    expect(compiled('absent_over_time((x{job="a"}[5m]))').leaves[0]!.query).toBe('count(last_over_time((x{job="a"}[5m])))');
  });

  it('pushDownLabelSetsOnly: the right side of and/unless sends one row per match signature', () => {
    const and = compiled('x and on (pod) y');
    expect(and.leaves.map((l) => [l.query, l.partial])).toEqual([['x', false], ['group by (pod) (y)', true]]);
    expect(shape(and.expr)).toMatchObject({ and: ['#0', { group: '#1', grouping: ALL }], matching: { on: true, labels: ['pod'] } });
    expect(compiled('sum by (job) (x) unless ignoring (cluster) y').leaves.map((l) => l.query)).toEqual(['sum by (job) (x)', 'group without (cluster) (y)']);
    expect(compiled('sum(x) and y').leaves.map((l) => l.query)).toEqual(['sum (x)', 'group without () (y)']);
    // Not where the right side loses the shard label (grouping would hide a "same labelset" error), nor for or.
    expect(compiled('x and on (pod) sum by (pod) (y)').leaves.map((l) => l.query)).toEqual(['x', 'sum by (pod) (y)']);
    expect(compiled('x or on (pod) y').leaves.map((l) => l.query)).toEqual(['x', 'y']);
    expect(compiled('x and on (pod) y', false).leaves.map((l) => l.query)).toEqual(['x', 'y']);
  });

  it('leave quantile, and everything with push-down off, to the router over all series', () => {
    const quantile = compiled('quantile(0.9, x)');
    expect(quantile.leaves).toEqual([{ id: 0, query: 'x', partial: false, shards: SHARDS }]);
    expect(shape(quantile.expr)).toEqual({ quantile: '#0', param: 0.9, grouping: { without: false, labels: [] } });
    const off = compiled('sum(x)', false);
    expect(off.leaves.map((l) => l.query)).toEqual(['x']);
  });
});

describe('placement', () => {
  it('a join that does not match on the shard label is the router\'s, its sides fetched apart', () => {
    const { expr, leaves } = compiled('x / on (pod) y');
    expect(leaves.map((l) => l.query)).toEqual(['x', 'y']);
    expect(shape(expr)).toMatchObject({ '/': ['#0', '#1'], matching: { on: true, labels: ['pod'] } });
    expect(compiled('x / ignoring (cluster) y').leaves).toHaveLength(2);
    // Separable, but group_left copies labels from one shard's series only: still one shard's join each.
    expect(compiled('x * on (cluster) group_left (node) y').leaves).toHaveLength(1);
  });

  it('label_replace writing the shard label makes a shard\'s answer lose which shard it came from', () => {
    const { expr, leaves } = compiled('sum by (cluster) (label_replace(x, "cluster", "z", "", ""))');
    expect(leaves.map((l) => [l.query, l.partial])).toEqual([['sum by (cluster) (label_replace(x, "cluster", "z", "", ""))', true]]);
    expect(shape(expr)).toEqual({ sum: '#0', grouping: ALL });
  });

  it('a constant side keeps a binary operation separable; a scalar that reads series does not', () => {
    expect(compiled('x * 2 + time()').leaves).toHaveLength(1);
    const { expr, leaves } = compiled('x * scalar(y)');
    expect(leaves.map((l) => l.query)).toEqual(['x', 'y']);
    expect(shape(expr)).toMatchObject({ '*': ['#0', { scalar: ['#1'] }] });
  });

  it('numbers leaves in evaluation order', () => {
    const { leaves } = compiled('sum(a) / on () group_left count(b) - avg(c)');
    expect(leaves.map((l) => l.query)).toEqual(['sum (a)', 'count (b)', 'count (c)', 'avg (c)', 'sum (c)']);
    expect(leaves.map((l) => l.id)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a subquery over the router\'s part runs it on the subquery\'s grid', () => {
    const { expr, leaves } = compiled('max_over_time(sum(x)[30m:1m] offset 5m)');
    expect(leaves.map((l) => l.query)).toEqual(['sum (x)']);
    expect(shape(expr)).toEqual({ max_over_time: [{ subquery: { sum: '#0', grouping: ALL }, rangeMs: 1_800_000, stepMs: 60_000 }] });
  });
});

describe('what the planner refuses', () => {
  it('leaves syntax to the parser layer: plan.checkFor refuses for the engine\'s major, unknown functions first', () => {
    const plan = (q: string) => planQuery(q, 'cluster', SHARDS);
    expect(() => plan('no_such_function(x) + double_exponential_smoothing(y[5m], 0.5, 0.5)').checkFor(ENGINE_MAJOR)).toThrow(UnsupportedQueryError);
    expect(() => plan('double_exponential_smoothing(y[5m], 0.5, 0.5)').checkFor(ENGINE_MAJOR)).toThrow(PromQLSyntaxError);
    expect(() => plan('rate(x)').checkFor(ENGINE_MAJOR)).toThrow(PromQLSyntaxError);
  });

  it('refuses with a 422 what the router cannot evaluate', () => {
    const refused = (q: string) => () => compiled(q);
    expect(refused('max_over_time(sum(x @ start())[5m:1m])')).toThrow(/@ start\(\) or @ end\(\) inside a subquery/);
  });

  it('rangeLeaf: a range selector under a function the router evaluates comes as raw samples', () => {
    const { expr, leaves } = compiled('quantile_over_time(scalar(y), x[5m])', true, 3_600_000);
    expect(leaves.map((l) => [l.query, l.raw ?? false])).toEqual([['y', false], ['x[3900000ms]', true]]);
    expect(shape(expr)).toEqual({ quantile_over_time: [{ scalar: ['#0'] }, { rangeLeaf: '#1', rangeMs: 300_000 }] });

  });
});

describe('shards whose replicas are merged', () => {
  // Shard a's leaves are computed by the router from its replicas' merged samples (lib/replicas): the
  // planner sends a subtree reading it only as a merged leaf (merged-form.ts), never a partial aggregate.
  const merged = (query: string) => {
    const plan = planQuery(query, 'cluster', SHARDS);
    plan.checkFor(ENGINE_MAJOR);
    const { expr, leaves } = compileQuery(plan, SHARDS, { mergedShards: new Set(['a']) });
    return { expr: shape(expr), leaves: leaves.map((l) => [l.plan.text, l.partial]) };
  };

  it('sends merged leaves whole and aggregates above them itself', () => {
    expect(merged('sum(rate(x[5m]))')).toEqual({ expr: { sum: '#0', grouping: { without: false, labels: [] } }, leaves: [['rate(x[5m])', false]] });
    expect(merged('sum by (cluster) (rate(x[5m]))').leaves).toEqual([['rate(x[5m])', false]]);
    expect(merged('avg(x)').leaves).toEqual([['x', false]]);
    expect(merged('rate(x[5m]) * 2').leaves).toEqual([['rate(x[5m])', false]]);
    expect(merged('timestamp(x)').leaves).toEqual([['timestamp(x)', false]]);
    expect(merged('count_over_time(x[5m] @ 100)').leaves).toEqual([['count_over_time(x[5m] @ 100)', false]]);
  });

  it('joins and selects across a merged shard itself: no labelsets-only right side', () => {
    expect(merged('x / y').leaves).toEqual([['x', false], ['y', false]]);
    expect(merged('x and y').leaves).toEqual([['x', false], ['y', false]]);
  });

  it('probes absent() with the series themselves (no count())', () => {
    expect(merged('absent(x)').leaves).toEqual([['x', true]]);
    expect(merged('absent_over_time(x[5m])').leaves).toEqual([['last_over_time(x[5m])', true]]);
  });

  it('pushes down as before where no merged shard is read', () => {
    expect(merged('sum(rate(x{cluster="b"}[5m]))').leaves).toEqual([['sum (rate(x{cluster="b"}[5m]))', true]]);
  });
});

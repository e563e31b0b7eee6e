import { describe, expect, it } from 'vitest';
import { PromQLSyntaxError } from '../../lib/promql/parse.ts';
import { planQuery } from '../../lib/promql/plan.ts';

const SHARDS = ['a', 'b', 'c', 'eu"west\\1', 'ü'];

function route(query: string, label = 'cluster') {
  return planQuery(query, label, SHARDS);
}

function forOnlyShard(query: string) {
  const plan = route(query);
  return plan.forShard(plan.shards[0] ?? 'a');
}

describe('shard selection', () => {
  const cases: [string, string[]][] = [
    ['up{cluster="a"}', ['a']],
    ['up{cluster!="a"}', ['b', 'c', 'eu"west\\1', 'ü']],
    ['up{cluster=~"a|b"}', ['a', 'b']],
    ['up{cluster=~"a.*"}', ['a']],
    ['up{cluster=~"b|"}', ['b']],
    ['up{cluster!~"a|b|c"}', ['eu"west\\1', 'ü']],
    ['up{cluster=""}', []],
    ['up{cluster!=""}', SHARDS],
    ['up{cluster=~".*"}', SHARDS],
    ['up{cluster=~".+"}', SHARDS],
    ['up', SHARDS],
    ['up{cluster="nope"}', []],
    ['up{cluster="a", cluster="b"}', []],
    ['up{cluster="a", cluster=~"a|b"}', ['a']],
    // Regexes are fully anchored, as in Prometheus: "a" does not match "ab".
    ['up{cluster=~"b"}', ['b']],
    ['up{cluster=~"(?i)A"}', ['a']],
    ['up{cluster="eu\\"west\\\\1"}', ['eu"west\\1']],
    ["up{cluster='eu\"west\\\\1'}", ['eu"west\\1']],
    ['up{cluster=`eu"west\\1`}', ['eu"west\\1']],
    ['up{cluster="\\u00fc"}', ['ü']],
    ['up{cluster="\\xc3\\xbc"}', ['ü']],
    ['up{"cluster"="b"}', ['b']],
    // RE2, not JS RegExp: \pL is a Unicode class in RE2.
    ['up{cluster=~"\\\\pL"}', ['a', 'b', 'c', 'ü']],
    ['sum(up{cluster="a"}) + sum(up{cluster="a"})', ['a']],
    ['sum(up{cluster="a"}) + sum(up{cluster="b"})', ['a', 'b']],
    ['1 + 1', []],
    ['vector(1)', []],
  ];
  it.each(cases)('%s', (query, expected) => {
    expect(route(query).shards).toEqual(expected);
  });

  it('ignores the shard label inside strings, comments and label_replace arguments', () => {
    const plan = route('label_replace(up{job="cluster=\\"a\\""}, "cluster", "a", "", "") # cluster="a"');
    expect(plan.shards).toEqual(SHARDS);
  });

  it('uses the configured shard label name', () => {
    expect(route('up{region="a"}', 'region').shards).toEqual(['a']);
    expect(route('up{cluster="a"}', 'region').shards).toEqual(SHARDS);
  });
});

describe('rewriting', () => {
  const cases: [string, string][] = [
    ['up{cluster="a"}', 'up{}'],
    ['up{job="x", cluster="a"}', 'up{job="x"}'],
    ['up{cluster="a", job="x"}', 'up{job="x"}'],
    ['up{job="x",cluster="a",}', 'up{job="x",}'],
    ['up{job="x" , cluster="a" , instance="i"}', 'up{job="x" , instance="i"}'],
    ['up{cluster="a",cluster=~"a|b",job="x"}', 'up{job="x"}'],
    ['up{cluster="a",}', 'up{}'],
    ['{cluster="a"}', '{__name__=~".+"}'],
    ['{cluster="a", job=~".*"}', '{__name__=~".+", job=~".*"}'],
    ['{cluster="a", job="x"}', '{job="x"}'],
    ['{"up", cluster="a"}', '{"up"}'],
    ['rate(up{cluster="a"}[5m] offset 1m @ 100) # keep me', 'rate(up{}[5m] offset 1m @ 100) # keep me'],
    ['max_over_time(up{cluster="a"}[1h:5m])', 'max_over_time(up{}[1h:5m])'],
    ["up{cluster='a', job=`x\"y`}", 'up{job=`x"y`}'],
    ['SUM BY (job) (up{cluster="a"})', 'SUM BY (job) (up{})'],
    ['up{cluster="a"}\n  # comment\n  + on(job)\n  up{cluster="a"}', 'up{}\n  # comment\n  + on(job)\n  up{}'],
  ];
  it.each(cases)('%s', (query, expected) => {
    expect(forOnlyShard(query).query).toBe(expected);
  });

  it('makes selectors routed elsewhere select nothing', () => {
    const plan = route('up{cluster="a"} or up{cluster="zz", job="x"}');
    expect(plan.shards).toEqual(['a']);
    expect(plan.forShard('a').query).toBe('label_replace(up{}, "__prome_route_shard__", "a", "", "") or up{__prome_route_shard__!="", job="x"}');
  });

  it('keeps a modifier with the selector it follows, as Prometheus binds it', () => {
    const plan = route('sum(up{cluster="a"}) - up{cluster="a"} offset 1h');
    expect(plan.forShard('a')).toEqual({ query: 'sum(up{}) - label_replace(up{} offset 1h, "__prome_route_shard__", "a", "", "")', addLabel: null });
  });

  it('routes what only one major has: the collector judges it', () => {
    expect(forOnlyShard('holt_winters(up{cluster="a"}[30m], 0.5, 0.5)')).toEqual({ query: 'holt_winters(up{}[30m], 0.5, 0.5)', addLabel: 'a' });
    expect(forOnlyShard('mad_over_time({"http.server.duration", cluster="a"}[5m])')).toEqual({ query: 'mad_over_time({"http.server.duration"}[5m])', addLabel: 'a' });
    expect(forOnlyShard('histogram_quantile(1./6., x{cluster="a"}) + 2.')).toEqual({ query: 'histogram_quantile(1./6., x{}) + 2.', addLabel: 'a' });
    expect(forOnlyShard('not_a_function(up{cluster="a"})').query).toBe('not_a_function(up{})');
  });

  it('leaves queries without shard matchers as they are', () => {
    const q = 'histogram_quantile(0.9, sum by (le) (rate(x_bucket{job="a"}[5m])))';
    expect(route(q).forShard('b').query).toBe(q);
  });
});

describe('where the shard label goes back (label provenance)', () => {
  const cases: [string, string | null][] = [
    ['up{cluster="a"}', 'a'],
    ['up{cluster="a"}[5m]', 'a'],
    ['rate(up{cluster="a"}[5m])', 'a'],
    ['-up{cluster="a"}', 'a'],
    ['up{cluster="a"} > 0', 'a'],
    ['2 * up{cluster="a"}', 'a'],
    ['histogram_quantile(0.9, rate(x_bucket{cluster="a"}[5m]))', 'a'],
    ['histogram_quantile(0.9, sum by (le) (rate(x_bucket{cluster="a"}[5m])))', null],
    ['sum by (cluster) (up{cluster="a"})', 'a'],
    ['sum by (job, cluster) (up{cluster="a"})', 'a'],
    ['sum(up{cluster="a"}) by (cluster)', 'a'],
    ['sum without (instance) (up{cluster="a"})', 'a'],
    ['sum without (cluster) (up{cluster="a"})', null],
    ['sum(up{cluster="a"})', null],
    ['sum by (job) (up{cluster="a"})', null],
    ['count(up{cluster="a"})', null],
    ['topk(3, up{cluster="a"})', 'a'],
    ['count_values("value", up{cluster="a"})', null],
    ['count_values by (cluster) ("value", up{cluster="a"})', 'a'],
    ['count_values by (cluster) ("cluster", up{cluster="a"})', null],
    ['scalar(up{cluster="a"})', null],
    ['vector(1)', null],
    ['time()', null],
    ['label_replace(up{cluster="a"}, "foo", "$1", "job", "(.*)")', 'a'],
    ['absent(up{cluster="a"})', 'a'],
    ['absent(up{cluster="a", job="x"} offset 5m)', 'a'],
    ['absent(up{cluster="zz"})', 'zz'],
    ['absent(up{cluster=~"a"})', null],
    ['absent(up{cluster="a", cluster="b"})', null],
    ['absent(up{cluster=~"a", cluster="a"})', 'a'],
    ['absent(sum(up{cluster="a"}))', null],
    ['absent_over_time(up{cluster="a"}[5m])', 'a'],
    ['up{cluster="a"} / on(instance) up{cluster="a"}', null],
    ['up{cluster="a"} / on(instance, cluster) up{cluster="a"}', 'a'],
    ['up{cluster="a"} / ignoring(cluster) up{cluster="a"}', null],
    ['up{cluster="a"} / ignoring(job) up{cluster="a"}', 'a'],
    ['up{cluster="a"} / up{cluster="a"}', 'a'],
    ['up{cluster="a"} * on(instance) group_left(cluster) vector(1)', null],
    ['vector(1) * on() group_right up{cluster="a"}', 'a'],
    ['up{cluster="a"} and on(job) vector(1)', 'a'],
    ['vector(1) unless on(job) up{cluster="a"}', null],
    ['up{cluster="a"} or up{cluster="a"}', 'a'],
    ['sort_desc(up{cluster="a"})', 'a'],
    ['timestamp(up{cluster="a"})', 'a'],
    ['max_over_time(rate(up{cluster="a"}[5m])[1h:1m])', 'a'],
  ];
  it.each(cases)('%s', (query, expected) => {
    expect(forOnlyShard(query).addLabel).toBe(expected);
  });

  it('attaches the label on the collector where an operator depends on it', () => {
    const materialised: [string, string][] = [
      ['up{cluster="a"} or vector(1)', 'label_replace(up{}, "__prome_route_shard__", "a", "", "") or vector(1)'],
      ['up{cluster="a"} + on(cluster) vector(1)', 'label_replace(up{}, "__prome_route_shard__", "a", "", "") + on(__prome_route_shard__) vector(1)'],
      ['label_replace(up{cluster="a"}, "cluster", "x", "", "")', 'label_replace(label_replace(up{}, "__prome_route_shard__", "a", "", ""), "__prome_route_shard__", "x", "", "")'],
      ['label_join(rate(up{cluster="a"}[5m]), "x", ",", "cluster", "job")', 'label_join(label_replace(rate(up{}[5m]), "__prome_route_shard__", "a", "", ""), "x", ",", "__prome_route_shard__", "job")'],
      ['vector(1) or(up{cluster="a"})', 'vector(1) or(label_replace((up{}), "__prome_route_shard__", "a", "", ""))'],
      ['up{cluster="a"} == bool absent(nothing{cluster="b"})', 'label_replace(up{}, "__prome_route_shard__", "a", "", "") == bool label_replace(absent(nothing{__prome_route_shard__!=""}), "__prome_route_shard__", "b", "", "")'],
    ];
    for (const [query, expected] of materialised) {
      const { query: rewritten, addLabel } = forOnlyShard(query);
      expect(rewritten, query).toBe(expected);
      expect(addLabel, query).toBeNull();
    }
  });
});

describe('label names as collectors know them (a collector\'s own shard label is original_cluster)', () => {
  it.each([
    // original_cluster is the collector's own cluster; the router's shard label is a name no collector has.
    ['up{cluster="a", original_cluster="x"}', 'up{cluster="x"}'],
    ['up{cluster="a", original_cluster=~"x|y", job="j"}', 'up{cluster=~"x|y", job="j"}'],
    ['sum by (cluster, original_cluster, job) (up{cluster="a"})', 'sum by (__prome_route_shard__, cluster, job) (up{})'],
    ['sum without ("original_cluster") (up{cluster="a"})', 'sum without ("cluster") (up{})'],
    ['up{cluster="a"} * on(instance, original_cluster) group_left(cluster) up{cluster="a"}', 'up{} * on(instance, cluster) group_left(__prome_route_shard__) up{}'],
    ['label_replace(up{cluster="a"}, "original_cluster", "$1", "job", "(.*)")', 'label_replace(up{}, "cluster", "$1", "job", "(.*)")'],
    ['count_values("original_cluster", up{cluster="a"})', 'count_values("cluster", up{})'],
    // Names that only look alike, and values, stay as written.
    ['sum by (clusters) (up{cluster="a", job="original_cluster"})', 'sum by (clusters) (up{job="original_cluster"})'],
  ])('%s', (query, expected) => {
    expect(forOnlyShard(query).query).toBe(expected);
  });
});

describe('invalid input (Prometheus 2.42\'s messages)', () => {
  const cases: [string, string][] = [
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
    ['', '1:1: parse error: no expression found in input'],
    ['sum(up', '1:7: parse error: unclosed left parenthesis'],
    ['up{cluster=~"("}', '1:4: parse error: error parsing regexp: missing closing ): `^(?:()$`'],
    ['up{cluster="\\q"}', "1:12: parse error: unknown escape sequence U+0071 'q'"],
    ['up\n  + }', "2:5: parse error: unexpected character: '}'"],
  ];
  it.each(cases)('%j', (query, message) => {
    expect(() => route(query)).toThrow(PromQLSyntaxError);
    expect(() => route(query)).toThrow(message);
  });

  // Selecting everything: judged with the shard matcher, as a global Prometheus judges it; the API layer
  // words the refusal per endpoint (test/api/endpoints.test.ts).
  it.each([['{cluster!="a"}', 0], ['sum(rate({cluster=~"a|b|"}[5m]))', 9], ['up{cluster!="a"}', null]] as const)('%j selects everything: %s', (query, from) => {
    expect(planQuery(query, 'cluster', ['a', 'b']).emptySelector?.from ?? null).toBe(from);
  });
});

// The promqltest reader on its own: every construct of the 2.42 and 3.x scripts, on small inputs
// written here, plus the data layout the end-to-end runner builds from them.
import { describe, expect, it } from 'vitest';
import { constructsOf, dataEpochs, evalCases, storedSeries } from './cases.ts';
import { formatTimestamp, groupEpochs, openMetricsText, selectorsOf, shardOf } from './datasets.ts';
import { almostEqual, apiValue } from './expected.ts';
import snappy from 'snappyjs';
import { PbfWriter } from 'pbf';
import { ReadResponseCodec } from '../../lib/replicas/prompb.ts';
import { encodeWriteRequest } from './remote-write.ts';
import {
  parseDuration, parseGoNumber, parseHistogram, parseMetric, parseScript, parseSequence, parseStartOffsets,
  ScriptError, type EvalCommand, type LoadCommand,
} from './script.ts';

const loads = (text: string) => parseScript(text).filter((c): c is LoadCommand => c.kind === 'load');

describe('durations and numbers', () => {
  it('reads Prometheus durations, largest unit first', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('20s500ms')).toBe(20_500);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1y')).toBe(365 * 24 * 3_600_000);
    expect(() => parseDuration('30s1m')).toThrow(/not a valid duration/);
    expect(() => parseDuration('1.5s')).toThrow();
    expect(() => parseDuration('')).toThrow();
  });

  it('reads numbers as Go does: ParseInt with base prefixes, then ParseFloat', () => {
    expect(parseGoNumber('12340000')).toBe(12_340_000);
    expect(parseGoNumber('0x1F')).toBe(31);
    expect(parseGoNumber('010')).toBe(8);
    expect(parseGoNumber('-0.0000002')).toBe(-0.0000002);
    expect(parseGoNumber('.2')).toBe(0.2);
    expect(parseGoNumber('+Inf')).toBe(Infinity);
    expect(parseGoNumber('-inf')).toBe(-Infinity);
    expect(parseGoNumber('NaN')).toBeNaN();
    expect(parseGoNumber('2.')).toBe(2);
    expect(parseGoNumber('{} 1')).toBeNull();
    expect(parseGoNumber('metric')).toBeNull();
  });
});

describe('series descriptions', () => {
  it('reads metric names, label sets and 3.x quoted names', () => {
    expect(parseMetric('node_namespace_pod:kube_pod_info:{namespace="o"} 1').labels).toEqual({ __name__: 'node_namespace_pod:kube_pod_info:', namespace: 'o' });
    expect(parseMetric('{__name__="m", job=\'a\\\'b\', x=`c\\d`,} 1').labels).toEqual({ __name__: 'm', job: "a'b", x: 'c\\d' });
    expect(parseMetric('{} 3').labels).toEqual({});
    expect(parseMetric('{"http.server.duration", "k8s.pod"="x"} 1').labels).toEqual({ __name__: 'http.server.duration', 'k8s.pod': 'x' });
    expect(() => parseMetric('{job} 1')).toThrow(/expected "="/);
  });

  it('expands the value notation', () => {
    expect(parseSequence(' 1+1x3')).toEqual([1, 2, 3, 4]);
    expect(parseSequence(' 10-2x2 _ 5')).toEqual([10, 8, 6, undefined, 5]);
    expect(parseSequence(' -2+1x2 _x2 7x1')).toEqual([-2, -1, 0, undefined, undefined, 7, 7]);
    expect(parseSequence(' 0 1 stale 2')).toEqual([0, 1, 'stale', 2]);
    expect(parseSequence(' Inf -Inf NaN 1e3 .5')).toEqual([Infinity, -Infinity, NaN, 1000, 0.5]);
    expect(parseSequence('')).toEqual([]);
    expect(() => parseSequence(' 1+1')).toThrow(/"x" after an increment/);
    expect(() => parseSequence(' 1,2')).toThrow(/a space between values/);
  });

  it('sums float steps the way upstream does, so rounding matches its expectations', () => {
    const values = parseSequence(' 0+1.33x3') as number[];
    expect(values[3]).toBe(0 + 1.33 + 1.33 + 1.33);
  });

  it('reads native histograms, repeated and increasing', () => {
    const h = parseHistogram('schema:1 sum:3 count:22 z_bucket:1 z_bucket_w:0.001 buckets:[5 10 7] offset:-1 n_buckets:[1] counter_reset_hint:gauge');
    expect(h).toEqual({
      schema: 1, sum: 3, count: 22, zeroCount: 1, zeroThreshold: 0.001,
      positive: { offset: -1, counts: [5, 10, 7] }, negative: { offset: 0, counts: [1] }, counterResetHint: 'gauge',
    });
    const seq = parseSequence(' {{sum:2 count:2 buckets:[1]}}+{{sum:3 count:3 buckets:[1 1] offset:1}}x2 {{}}x1');
    expect(seq).toHaveLength(5);
    expect(seq[2]).toMatchObject({ sum: 8, count: 8, positive: { offset: 0, counts: [1, 2, 2] } });
    expect(seq[4]).toMatchObject({ sum: 0, count: 0, positive: { counts: [] } });
    expect(parseSequence(' {{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}')[0]).toMatchObject({ customValues: [5, 10] });
    expect(() => parseHistogram('schema:1 bogus:2')).toThrow(/unknown histogram field/);
  });

  it('reduces the finer histogram to the coarser schema when adding', () => {
    // schema 0 buckets 1 and 2 fall into schema -1 bucket 1: ((i-1) >> 1) + 1.
    const [a, b] = parseSequence(' {{schema:-1 sum:4 count:1 buckets:[1] offset:1}}+{{schema:0 sum:4 count:4 buckets:[2 2] offset:1}}x1');
    expect(a).toMatchObject({ schema: -1, positive: { offset: 1, counts: [1] } });
    expect(b).toMatchObject({ schema: -1, sum: 8, count: 5, positive: { offset: 1, counts: [5] } });
  });

  it('reads start-timestamp sequences', () => {
    expect(parseStartOffsets('_ _x2 -30s -1m-1mx2 1ms+1msx1 0')).toEqual([undefined, undefined, undefined, -30_000, -60_000, -120_000, -180_000, 1, 2, 0]);
    expect(() => parseStartOffsets('-1m+1m')).toThrow(/x<count>/);
  });
});

describe('commands', () => {
  it('reads loads, evals with expected series and scalars, clears, comments and blank lines', () => {
    const cmds = parseScript([
      '# a comment',
      'load 5m',
      '  http_requests{job="a"} 0+10x10',
      '\t# a comment inside a block is a blank line and ends it',
      'load 1m',
      '  other 1',
      '',
      'eval instant at 50m sum(http_requests)',
      '  {} 100',
      '',
      'eval instant at 1m 1 + 1',
      '  2',
      'clear',
      'eval_fail instant at 0m ceil(x)',
      '',
      'eval_ordered instant at 50m sort(http_requests)',
      '  http_requests{job="a"} 100',
    ].join('\n'));
    expect(cmds.map((c) => c.kind)).toEqual(['load', 'load', 'eval', 'eval', 'clear', 'eval', 'eval']);
    const [load] = cmds as LoadCommand[];
    expect(load).toMatchObject({ line: 2, endLine: 3, intervalMs: 300_000, withNhcb: false });
    expect(load!.series[0]).toMatchObject({ labels: { __name__: 'http_requests', job: 'a' }, line: 3 });
    const [sum, scalar, fail, ordered] = cmds.filter((c): c is EvalCommand => c.kind === 'eval');
    expect(sum).toMatchObject({ line: 8, endLine: 9, expr: 'sum(http_requests)', query: { type: 'instant', timeMs: 3_000_000 }, expected: { kind: 'series', series: [{ labels: {}, values: [100] }] } });
    // A scalar line ends the block: `clear` right after it is a command of its own.
    expect(scalar).toMatchObject({ expected: { kind: 'scalar', value: 2 }, endLine: 12 });
    expect(fail).toMatchObject({ modifier: 'fail', expected: { kind: 'series', series: [] } });
    expect(ordered).toMatchObject({ modifier: 'ordered' });
  });

  it('reads the 3.x additions: range evals, expect lines, range vectors, strings, nhcb, @st', () => {
    const cmds = parseScript([
      'load_with_nhcb 1m',
      '  h_bucket{le="1"} 1+1x2',
      '  c{a="b"}@st _ -1mx1',
      '  c{a="b"} 1 2 3',
      '',
      'eval range from 0 to 2m step 1m sum(h_bucket)',
      '  expect warn msg: something went wrong',
      '  expect no_info',
      '  {} 1 _ 3',
      '',
      'eval instant at 1m c[1m]',
      '  expect range vector from 10s to 1m step 10s',
      '  expect ordered',
      '  c{a="b"} 2 3',
      '',
      'eval instant at 50m ("Foo")',
      '  expect string "Foo"',
      '',
      'eval_fail instant at 1m x',
      '  expected_fail_regexp vector cannot .*',
      '',
      'eval instant at 1m ceil(y)',
      '  expect fail regex: vector cannot contain metrics .*',
    ].join('\n'));
    const [load] = cmds as LoadCommand[];
    expect(load).toMatchObject({ withNhcb: true, intervalMs: 60_000 });
    expect(load!.series[1]!.startOffsets).toEqual([undefined, -60_000, -60_000]);
    const [range, rangeVector, str, failRegexp, expectFail] = cmds.filter((c): c is EvalCommand => c.kind === 'eval');
    expect(range).toMatchObject({
      query: { type: 'range', startMs: 0, endMs: 120_000, stepMs: 60_000 },
      expectations: [{ type: 'warn', match: { kind: 'msg', text: 'something went wrong' } }, { type: 'no_info' }],
      expected: { kind: 'series', series: [{ labels: {}, values: [1, undefined, 3] }] },
    });
    expect(rangeVector).toMatchObject({ rangeVector: { startMs: 10_000, endMs: 60_000, stepMs: 10_000 }, expectations: [{ type: 'ordered' }] });
    expect(str).toMatchObject({ expected: { kind: 'string', value: 'Foo' } });
    expect(failRegexp).toMatchObject({ modifier: 'fail', failMatch: { kind: 'regex', text: 'vector cannot .*' } });
    expect(expectFail).toMatchObject({ modifier: null, expectations: [{ type: 'fail', match: { kind: 'regex', text: 'vector cannot contain metrics .*' } }] });
  });

  it('refuses what upstream refuses, with the line', () => {
    expect(() => parseScript('load 1m\n  m 1\n# a comment ends the block\n  m 2')).toThrow(ScriptError);
    expect(() => parseScript('\n\nfrobnicate')).toThrow(/line 3: invalid command/);
    expect(() => parseScript('eval instant at 1m m\n  m 1 2')).toThrow(/line 2: multiple values/);
    expect(() => parseScript('eval instant at 1m m\n  expect sometimes')).toThrow(/invalid expect line/);
    expect(() => parseScript('load 1m\n  m@st -1m\n')).toThrow(/@st line has no following sample line/);
    expect(() => parseScript('load 1x\n  m 1')).toThrow(/not a valid duration/);
  });
});

describe('data epochs and eval cases', () => {
  const script = parseScript([
    'load 10s', '  m{a="1"} 0 1 stale 2', '  m{a="1"} _ _ _ _ 9', '',
    'eval instant at 10s m', '  m{a="1"} 1', '',
    'load 10s', '  n 5', '',
    'eval instant at 10s n', '  n 5', '',
    'clear',
    'eval instant at 0s vector(1)', '  {} 1',
  ].join('\n'));

  it('merges loads per series, in time order', () => {
    expect(storedSeries(loads('load 10s\n  m 0 _ 2\n\nload 5s\n  m _ 1\n  n 3'))).toEqual([
      { labels: { __name__: 'm' }, samples: [{ t: 0, value: 0 }, { t: 5000, value: 1 }, { t: 20_000, value: 2 }] },
      { labels: { __name__: 'n' }, samples: [{ t: 0, value: 3 }] },
    ]);
  });

  it('starts a new epoch at a clear and at a load after an eval', () => {
    const epochs = dataEpochs('x.test', script);
    expect(epochs.map((e) => [e.line, e.series.length, e.evals.map((v) => v.line)])).toEqual([[1, 1, [5]], [1, 2, [11]], [15, 0, [15]]]);
    expect(epochs[0]!.series[0]!.samples.map((s) => s.value)).toEqual([0, 1, 'stale', 2, 9]);
  });

  it('gives each eval its data, expectations and constructs', () => {
    const cases = evalCases('x.test', script);
    expect(cases).toHaveLength(3);
    expect(cases[0]).toMatchObject({ file: 'x.test', line: 5, expr: 'm', fail: false, ordered: false, query: { type: 'instant', timeMs: 10_000 } });
    expect(constructsOf(cases[0]!)).toEqual(['staleness markers']);
    expect(cases[2]!.series).toEqual([]);
  });
});

describe('the end-to-end layout', () => {
  it('keeps series that differ only in name or bucket on one shard', () => {
    expect(shardOf({ __name__: 'a', x: '1' })).toBe(shardOf({ __name__: 'b', x: '1' }));
    expect(shardOf({ __name__: 'h_bucket', job: 'j', le: '0.1' })).toBe(shardOf({ __name__: 'h_count', job: 'j' }));
    const shards = new Set(Array.from({ length: 20 }, (_, i) => shardOf({ __name__: 'm', instance: String(i) })));
    expect(shards.size).toBe(3);
  });

  it('writes millisecond timestamps that promtool reads back exactly (it truncates seconds * 1000)', () => {
    for (const ms of [0, 1, 1001, 1003, 1234, 10_000, 2_999_999, 12_345_678]) {
      const text = formatTimestamp(ms);
      expect(Math.trunc(Number(text) * 1000), text).toBe(ms);
    }
  });

  it('writes OpenMetrics with special values and escaped labels, refusing staleness markers', () => {
    const stats = { series: 0, samples: 0 };
    const text = openMetricsText([{ labels: { __name__: 'm', l: 'a"b\\c', cluster: 'a' }, samples: [{ t: 0, value: NaN }, { t: 1, value: -Infinity }, { t: 2, value: -0 }] }], stats);
    expect(text).toBe('m{cluster="a",l="a\\"b\\\\c"} NaN 0\nm{cluster="a",l="a\\"b\\\\c"} -Inf 0.001\nm{cluster="a",l="a\\"b\\\\c"} -0 0.002\n# EOF\n');
    expect(stats).toEqual({ series: 1, samples: 3 });
    expect(() => openMetricsText([{ labels: { __name__: 'm' }, samples: [{ t: 0, value: 'stale' }] }], stats)).toThrow(/staleness marker/);
  });

  it('takes a query the router\'s grammar refuses to see every series', () => {
    expect(selectorsOf('sum(rate(x[5m])')).toBe('all');
    expect(selectorsOf('rate(m{a=~"x|y"}[5m]) / n')).toMatchObject([{ metricName: 'm', matchers: [{ name: 'a', op: '=~', value: 'x|y' }] }, { metricName: 'n' }]);
  });

  it('shares a data set only between epochs whose queries cannot see each other\'s series', () => {
    const epochs = dataEpochs('x.test', parseScript([
      'load 1m', '  a{x="1"} 1', '', 'eval instant at 0 a', '', 'clear',
      'load 1m', '  b{x="1"} 1', '', 'eval instant at 0 b', '', 'clear',
      'load 1m', '  a{x="2"} 1', '', 'eval instant at 0 a{x="2"}', '', 'clear',
      'load 1m', '  c 1', '', 'eval instant at 0 {x="1"}',
    ].join('\n')));
    // a{x="2"} is seen by the first epoch's `a`; `{x="1"}` sees a{x="1"} and b{x="1"}, not a{x="2"}.
    expect(groupEpochs(epochs).map((set) => set.epochs.map((e) => e.line))).toEqual([[1, 7], [13, 19]]);
  });

  it('compares values as upstream does', () => {
    expect(almostEqual(NaN, NaN)).toBe(true);
    expect(almostEqual(1, 1 + 1e-7)).toBe(true);
    expect(almostEqual(1, 1 + 1e-5)).toBe(false);
    expect(almostEqual(0, 1e-300)).toBe(false);
    expect([apiValue('+Inf'), apiValue('-Inf'), apiValue('1.5')]).toEqual([Infinity, -Infinity, 1.5]);
  });
});

describe('remote write of staleness markers', () => {
  it('keeps the marker\'s exact NaN bits, which an OpenMetrics NaN would lose', () => {
    const bytes = encodeWriteRequest([{ labels: { __name__: 'm' }, samples: [{ t: 20_000, value: 'stale' }] }]);
    // Sample.value (field 1, double): tag 0x09, then 0x7ff0000000000002 little-endian.
    expect(Buffer.from(bytes).toString('hex')).toContain('09020000000000f07f');
  });

  it('compresses the request with snappy, as Prometheus decodes it', () => {
    const bytes = encodeWriteRequest([{ labels: { __name__: 'm', job: 'j' }, samples: [{ t: 20_000, value: 1.5 }, { t: 35_000, value: 'stale' }] }]);
    expect(Buffer.from(snappy.uncompress(snappy.compress(bytes))).equals(Buffer.from(bytes))).toBe(true);
    // A WriteRequest is a QueryResult's shape (`repeated TimeSeries = 1`): read it as the router reads
    // one inside a ReadResponse (`repeated QueryResult results = 1`).
    const wrapped = new PbfWriter();
    wrapped.writeBytesField(1, bytes);
    const decoded = ReadResponseCodec.decode(wrapped.finish()).results[0]!.timeseries[0]!;
    expect(decoded.labels).toEqual([{ name: '__name__', value: 'm' }, { name: 'job', value: 'j' }]);
    expect(decoded.samples.map((s) => s.timestamp)).toEqual([20_000, 35_000]);
  });
});

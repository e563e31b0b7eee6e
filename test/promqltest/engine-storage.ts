// The storage under the router's engine when Prometheus 3.14's scripts run in process (there is no
// Prometheus 3 on this machine): one shard answering the only queries the engine sends when the query
// is split at its selectors — a vector selector on a grid (also as `timestamp(selector)`, which the
// shards evaluate: only they know the samples' times), several of them in one request as the engine
// combines them (`label_replace(s0, "<leaf label>", "0", "", "") or ...`), and a range selector's raw
// samples at one time — from a script's loaded series, with 3.x's selection rules: the lookback window
// (t - 5m, t], range windows (t - range, t], staleness markers ending a series and left out of range
// selectors, regex matchers with `.` matching newlines. Everything above the selectors is the engine's.
import type { Matcher } from '../../lib/promql/matchers.ts';
import { matches } from '../../lib/promql/matchers.ts';
import { literalDurationMs, type Expr, type VectorSelector } from '../../lib/promql/ast.ts';
import { LEAF_LABEL } from '../../lib/engine/fetch.ts';
import { parseQuery } from '../../lib/promql/parse.ts';
import type { QueryAnswer } from '../../lib/collectors/client.ts';
import { scanAnswer } from '../../lib/collectors/json-scan.ts';
import { formatSampleValue } from '../../lib/engine/format.ts';
import type { Grid } from '../../lib/engine/grid.ts';
import { gridTimes } from '../../lib/engine/grid.ts';
import type { Remote } from '../../lib/engine/remote.ts';
import type { StoredSeries } from './cases.ts';

/** What this storage does not do (the shards do): the eval is counted as not run, with this reason. */
export class StorageLimit extends Error {}

/** Prometheus's default lookback delta. */
const LOOKBACK_MS = 5 * 60_000;

export function storageRemote(series: readonly StoredSeries[], shardLabel: string): Remote {
  return {
    shardLabel,
    async query(_shard, text, grid) {
      const result = answer(parseQuery(text).expr, series, grid);
      const body = Buffer.from(JSON.stringify({ status: 'success', data: result }));
      return { body, answer: scanAnswer(body, shardLabel) } satisfies QueryAnswer;
    },
  };
}

interface Rows { resultType: 'vector' | 'matrix'; result: { metric: Record<string, string> }[] }

function answer(expr: Expr, series: readonly StoredSeries[], grid: Grid): Rows {
  if (expr.kind === 'binary' && expr.op === 'or') {
    const [l, r] = [answer(expr.lhs, series, grid), answer(expr.rhs, series, grid)];
    return { resultType: l.resultType, result: [...l.result, ...r.result] };
  }
  if (expr.kind === 'call' && expr.name === 'label_replace' && expr.args[1]?.kind === 'string' && expr.args[1].value === LEAF_LABEL) {
    const inner = answer(expr.args[0]!, series, grid);
    const tag = expr.args[2]?.kind === 'string' ? expr.args[2].value : '';
    return { ...inner, result: inner.result.map((r) => ({ ...r, metric: { ...r.metric, [LEAF_LABEL]: tag } })) };
  }
  const stamped = expr.kind === 'call' && expr.name === 'timestamp';
  let target = stamped ? expr.args[0]! : expr;
  while (target.kind === 'paren') target = target.expr;
  const selector = target.kind === 'vectorSelector' ? target : target.kind === 'matrixSelector' ? target.selector : null;
  if (selector === null) throw new Error(`the storage answers selectors only, not ${expr.kind}`);
  if (selector.anchored || selector.smoothed) throw new StorageLimit('the test storage does not evaluate anchored or smoothed selectors');
  const named = (s: StoredSeries) => selector.metricName === null || s.labels.__name__ === selector.metricName;
  const selected = series.filter((s) => named(s) && selector.matchers.every((m) => selects(m, s.labels)));
  if (selected.some((s) => s.samples.some((x) => typeof x.value === 'object'))) {
    throw new StorageLimit('the selected series hold native histograms, which the router\'s engine does not evaluate');
  }
  if (target.kind === 'matrixSelector') return rangeSelection(selected, selector, msOf(target.range), grid);
  return vectorSelection(selected, selector, grid, stamped);
}

function selects(m: Matcher, labels: Readonly<Record<string, string>>): boolean {
  return matches(m, labels[m.name] ?? '', true);
}

function msOf(value: Parameters<typeof literalDurationMs>[0]): number {
  const ms = literalDurationMs(value);
  if (ms === null) throw new StorageLimit('the test storage does not evaluate duration expressions in selectors');
  return ms;
}

/** The time a selector reads at step `t`: its `@` time (or the step), less its offset. */
function readTime(selector: VectorSelector, t: number, grid: Grid): number {
  const at = selector.at === null ? t : selector.at.kind === 'time' ? selector.at.ms : selector.at.kind === 'start' ? grid.start : grid.end;
  return at - (selector.offset === null ? 0 : msOf(selector.offset.value));
}

const point = (t: number, v: number): [number, string] => [t / 1000, formatSampleValue(v)];

/** Each series' sample at each step (or, `stamped`, its time in seconds, without the metric name). */
function vectorSelection(selected: readonly StoredSeries[], selector: VectorSelector, grid: Grid, stamped: boolean): Rows {
  const times = gridTimes(grid);
  const rows = selected.map((s) => {
    const values: [number, string][] = [];
    for (const t of times) {
      const ref = readTime(selector, t, grid);
      let last: StoredSeries['samples'][number] | undefined;
      for (const x of s.samples) {
        if (x.t > ref) break;
        if (x.t > ref - LOOKBACK_MS) last = x;
      }
      if (last !== undefined && typeof last.value === 'number') values.push(point(t, stamped ? last.t / 1000 : last.value));
    }
    const { __name__: _name, ...unnamed } = s.labels;
    return { metric: stamped ? unnamed : s.labels, values };
  }).filter((r) => r.values.length > 0);
  if (grid.step > 0 && grid.start !== grid.end) return { resultType: 'matrix', result: rows };
  return { resultType: 'vector', result: rows.map((r) => ({ metric: r.metric, value: r.values[0]! })) };
}

function rangeSelection(selected: readonly StoredSeries[], selector: VectorSelector, rangeMs: number, grid: Grid): Rows {
  const end = readTime(selector, grid.end, grid);
  const rows = selected.map((s) => ({
    metric: s.labels,
    values: s.samples.filter((x) => x.t > end - rangeMs && x.t <= end && typeof x.value === 'number').map((x) => point(x.t, x.value as number)),
  })).filter((r) => r.values.length > 0);
  return { resultType: 'matrix', result: rows };
}

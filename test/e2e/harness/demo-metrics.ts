// The PromLabs demo-service metrics used by the PromQL compliance tester's queries, for one shard.
// Same three instances in every shard (only `cluster` tells them apart globally), different values.
import {
  EVAL_TIME, POINTS, SCRAPE_INTERVAL_S, START_S,
  between, constant, counter, gauge, hash32, indexAt, pick, rngFor, round, scrapePhaseMs, window,
} from './series.ts';
import type { Series, Values } from './series.ts';

export const DEMO_JOB = 'demo';
export const DEMO_INSTANCES = ['demo.promlabs.com:10000', 'demo.promlabs.com:10001', 'demo.promlabs.com:10002'] as const;

const GiB = 2 ** 30;
const MODES = ['idle', 'system', 'user'] as const;
/** Histogram bucket bounds, as the client library would print them. */
const BUCKETS = ['0.01', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'] as const;
/** method, path, status, requests/s, median latency; the 500s only start mid-window (see below). */
const ENDPOINTS = [
  { method: 'GET', path: '/api/foo', status: '200', rate: 12, median: 0.04 },
  { method: 'POST', path: '/api/foo', status: '200', rate: 3, median: 0.12 },
  { method: 'GET', path: '/api/foo', status: '500', rate: 0.4, median: 0.6 },
  { method: 'GET', path: '/api/nonexistent', status: '404', rate: 1, median: 0.005 },
] as const;

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return 0.5 * (1 + (x < 0 ? -erf : erf));
}

/** Cumulative buckets + _sum + _count of one endpoint, counting from 0 at scrape `from`. */
function histogram(rng: () => number, rate: number, median: number, from: number): { buckets: Values[]; sum: Values; count: Values } {
  const sigma = 1.1;
  const cdf = BUCKETS.map((le) => (le === '+Inf' ? 1 : normalCdf((Math.log(Number(le)) - Math.log(median)) / sigma)));
  const mean = median * Math.exp((sigma * sigma) / 2);
  const buckets: Values[] = BUCKETS.map(() => new Array(POINTS));
  const sum: Values = new Array(POINTS);
  const count: Values = new Array(POINTS);
  const acc = BUCKETS.map(() => 0);
  let total = 0;
  let s = 0;
  for (let i = from; i < POINTS; i++) {
    if (i > from) {
      const n = Math.round(rate * SCRAPE_INTERVAL_S * between(rng, 0.6, 1.4));
      // Rounding n·cdf keeps buckets cumulative (cdf is non-decreasing) and +Inf equal to the count.
      for (let k = 0; k < BUCKETS.length; k++) acc[k]! += Math.round(n * cdf[k]!);
      total += n;
      s += n * mean * between(rng, 0.8, 1.2);
    }
    for (let k = 0; k < BUCKETS.length; k++) buckets[k]![i] = acc[k]!;
    count[i] = total;
    sum[i] = round(s, 4);
  }
  return { buckets, sum, count };
}

/** Last successful run's timestamp: a batch job every ~5 min that sometimes fails (value stays put). */
function batchTimestamps(rng: () => number, phaseMs: number): Values {
  const period = between(rng, 240, 360);
  let last = Math.floor(START_S - between(rng, 0, period));
  let nextRun = last + period;
  const out: Values = new Array(POINTS);
  for (let i = 0; i < POINTS; i++) {
    const t = START_S + i * SCRAPE_INTERVAL_S + phaseMs / 1000;
    while (nextRun <= t) {
      if (rng() < 0.85) last = Math.floor(nextRun);
      nextRun += period * between(rng, 0.9, 1.1);
    }
    out[i] = last;
  }
  return out;
}

/**
 * Present 7.5 min, absent 7.5 min, phase per series. OpenMetrics backfill cannot write staleness
 * markers, so a stopped series lingers for the 5 min lookback; the gaps are longer, so it does vanish.
 */
function intermittent(values: Values, rng: () => number): Values {
  const cycle = 60;
  const offset = Math.floor(rng() * cycle);
  return values.map((v, i) => ((i + offset) % cycle < cycle / 2 ? v : undefined));
}

export function demoSeries(shard: string, seed: number): Series[] {
  const out: Series[] = [];
  DEMO_INSTANCES.forEach((instance, idx) => {
    const base = { job: DEMO_JOB, instance };
    const phaseMs = scrapePhaseMs(shard, `${DEMO_JOB}/${instance}`, idx === 0);
    const rng = (...k: string[]) => rngFor(seed, shard, instance, ...k);
    const add = (family: string, type: Series['type'], name: string, labels: Record<string, string>, values: Values) =>
      out.push({ family, type, name, labels: { ...base, ...labels }, phaseMs, values });

    const cpus = pick(rng('cpus'), [2, 4, 8, 16]);
    add('demo_num_cpus', 'gauge', 'demo_num_cpus', {}, constant(cpus));

    // Memory split into used/buffers/cached/free of a fixed total, so the four always add up.
    const total = pick(rng('mem'), [8, 16, 32]) * GiB;
    const used = gauge(rng('used'), { base: total * between(rng('u'), 0.3, 0.6), wave: 0.2, integer: true });
    // One instance per shard reports 0 buffers (as in some container sandboxes): zero values make
    // comparisons with small constants non-empty and divisions produce NaN/Inf.
    const zeroBuffers = idx === hash32(`${shard}/zero-buffers`) % DEMO_INSTANCES.length;
    const buffers = zeroBuffers ? constant(0) : gauge(rng('buffers'), { base: total * 0.03, noise: 0.05, integer: true });
    const cached = gauge(rng('cached'), { base: total * 0.2, wave: 0.15, integer: true });
    const free = used.map((u, i) => total - u! - buffers[i]! - cached[i]!);
    const mem = { used, buffers, cached, free };
    for (const type of ['free', 'used', 'buffers', 'cached'] as const) {
      add('demo_memory_usage_bytes', 'gauge', 'demo_memory_usage_bytes', { type }, mem[type]);
    }

    // CPU counters. One series per shard resets (process restart) well inside the [1h] windows before
    // EVAL_TIME, another inside the 15 min range window, so resets()/rate() see both cases.
    const resetRng = rngFor(seed, shard, 'resets');
    const resetOld = indexAt(EVAL_TIME - between(resetRng, 16, 50) * 60);
    const resetRecent = indexAt(EVAL_TIME - between(resetRng, 1, 14) * 60);
    const share = { idle: 0.65, system: 0.1, user: 0.25 };
    for (const mode of MODES) {
      const resetsAt = idx === 1 && mode === 'user' ? [resetOld] : idx === 2 && mode === 'idle' ? [resetRecent] : [];
      add('demo_cpu_usage_seconds', 'counter', 'demo_cpu_usage_seconds_total', { mode },
        counter(rng('cpu', mode), { rate: cpus * share[mode] * between(rng('r', mode), 0.8, 1.2), resetsAt }));
    }

    // Disk usage grows steadily (deriv/predict_linear), with a cleanup drop somewhere.
    const disk = counter(rng('disk'), { rate: between(rng('dr'), 2e5, 2e6), start: between(rng('ds'), 20, 60) * GiB, integer: true, jitter: 0.8 });
    const cleanup = Math.floor(between(rng('cleanup'), 0.1, 0.9) * POINTS);
    add('demo_disk_usage_bytes', 'gauge', 'demo_disk_usage_bytes', {},
      disk.map((v, i) => (i >= cleanup ? Math.round(v! - disk[cleanup]! * 0.4) : v)));

    add('demo_batch_last_success_timestamp_seconds', 'gauge', 'demo_batch_last_success_timestamp_seconds', {},
      batchTimestamps(rng('batch'), phaseMs));

    add('demo_intermittent_metric', 'gauge', 'demo_intermittent_metric', {},
      intermittent(gauge(rng('im'), { base: 42, wave: 0.3, digits: 2 }), rng('im-phase')));

    for (const ep of ENDPOINTS) {
      const { method, path, status } = ep;
      const key = `${method} ${path} ${status}`;
      // The error endpoint appears only 30–60 min before EVAL_TIME on one instance per shard: a series
      // starting mid-window, inside [1h] ranges.
      let starts = 0;
      if (status === '500') {
        if (idx !== hash32(shard) % DEMO_INSTANCES.length) continue;
        starts = indexAt(EVAL_TIME - between(rng('start'), 30, 60) * 60);
      }
      const h = histogram(rng('hist', key), ep.rate * between(rng('hr', key), 0.5, 1.5), ep.median, starts);
      const labels = { method, path, status };
      const fam = 'demo_api_request_duration_seconds';
      BUCKETS.forEach((le, k) => add(fam, 'histogram', `${fam}_bucket`, { ...labels, le }, window(h.buckets[k]!, starts)));
      add(fam, 'histogram', `${fam}_sum`, labels, window(h.sum, starts));
      add(fam, 'histogram', `${fam}_count`, labels, window(h.count, starts));
    }
  });
  return out;
}

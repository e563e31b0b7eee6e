// Building blocks of the synthetic data: the fixed time grid, a seeded PRNG and a few value models.
// Everything is a pure function of (seed, shard, series identity), so the data never changes between
// runs and adding a series does not perturb the values of the others.

/** 2026-01-01T00:00:00Z, in seconds. Fixed so cached blocks and recorded results stay valid. */
export const START_S = 1_767_225_600;
export const SCRAPE_INTERVAL_S = 15;
/** Two hours of data: [1h] ranges + `offset ±10m` around a 15 min window still fit with room to spare. */
export const DURATION_S = 2 * 3600;
export const POINTS = DURATION_S / SCRAPE_INTERVAL_S; // scrapes at START_S + i*15 (+ phase), i < POINTS
/** End of the data (exclusive): the last scrape of each target is at END_S - 15 s + its phase. */
export const END_S = START_S + DURATION_S;

/**
 * Instant-query time: 1h40m into the data, so `[1h] offset 10m` has full history behind it and
 * `offset -10m` still finds data 10 minutes later (the data ends 20 minutes after it).
 */
export const EVAL_TIME = START_S + 100 * 60;
/** Range-query window: the 15 minutes ending at EVAL_TIME, one point per minute (16 points). */
export const RANGE = { start: EVAL_TIME - 15 * 60, end: EVAL_TIME, step: 60 } as const;
/**
 * A window whose start is off the scrape grid and whose step (45 s) does not divide its length (607 s):
 * the last point is before `end`, and every point falls between scrapes.
 */
export const RANGE_UNALIGNED = { start: EVAL_TIME - 607, end: EVAL_TIME, step: 45 } as const;

/** Every series' value per scrape; `undefined` = not scraped (series absent at that time). */
export type Values = (number | undefined)[];

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'unknown';

export interface Series {
  /** OpenMetrics family (`# TYPE` line); for counters the sample name is family + `_total`. */
  family: string;
  type: MetricType;
  /** Sample name as stored in Prometheus (`__name__`). */
  name: string;
  labels: Record<string, string>;
  /**
   * Scrape phase in ms added to every timestamp. Targets scraped at phase 0 put samples exactly on range
   * boundaries; the others do not. Multiples of 125 ms stay exact through promtool's float-seconds parsing.
   */
  phaseMs: number;
  values: Values;
}

// --- PRNG -------------------------------------------------------------------------------------------

/** FNV-1a 32-bit, to turn series identities into seeds. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for test data. Returns floats in [0, 1). */
export function rngFor(...key: (string | number)[]): Rng {
  let a = hash32(key.join('\u0000'));
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** Uniform in [lo, hi). */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Index of the scrape at or after `t` seconds (clamped to the grid). */
export function indexAt(t: number): number {
  return Math.min(POINTS, Math.max(0, Math.ceil((t - START_S) / SCRAPE_INTERVAL_S)));
}

/** Rounds to `digits` decimals: keeps the OpenMetrics text short and values exactly reproducible. */
export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// --- value models -----------------------------------------------------------------------------------

export interface CounterOpts {
  /** Mean increase per second. */
  rate: number;
  /** Value at the first scrape (counters rarely start at 0 in a real scrape window). */
  start?: number;
  integer?: boolean;
  /** Relative jitter of each step's increase, 0..1 (default 0.5). */
  jitter?: number;
  /** Scrape indexes at which the process restarted: the counter drops back near 0. */
  resetsAt?: number[];
  /** Only every n-th scrape sees an increase (bursty event counters such as restarts). */
  every?: number;
}

/** A monotonically increasing counter, with optional resets. */
export function counter(rng: Rng, o: CounterOpts): Values {
  const jitter = o.jitter ?? 0.5;
  const out: Values = new Array(POINTS);
  let v = o.start ?? o.rate * between(rng, 600, 6000);
  const resets = new Set(o.resetsAt ?? []);
  for (let i = 0; i < POINTS; i++) {
    if (i > 0) {
      const inc = !o.every || i % o.every === 0 ? o.rate * SCRAPE_INTERVAL_S * (o.every ?? 1) : 0;
      v += inc * (1 + jitter * (rng() * 2 - 1));
    }
    if (resets.has(i)) v = o.rate * SCRAPE_INTERVAL_S * rng();
    out[i] = o.integer ? Math.floor(v) : round(v, 3);
  }
  return out;
}

export interface GaugeOpts {
  base: number;
  /** Relative amplitude of a slow sine wave (period ~40 min, random phase). */
  wave?: number;
  /** Relative per-step noise. */
  noise?: number;
  min?: number;
  max?: number;
  integer?: boolean;
  digits?: number;
}

/** A gauge wandering around `base`. */
export function gauge(rng: Rng, o: GaugeOpts): Values {
  const out: Values = new Array(POINTS);
  const phase = rng() * 2 * Math.PI;
  const period = between(rng, 1800, 3000) / SCRAPE_INTERVAL_S;
  for (let i = 0; i < POINTS; i++) {
    let v = o.base * (1 + (o.wave ?? 0.1) * Math.sin(phase + (2 * Math.PI * i) / period) + (o.noise ?? 0.02) * (rng() * 2 - 1));
    if (o.min !== undefined) v = Math.max(o.min, v);
    if (o.max !== undefined) v = Math.min(o.max, v);
    out[i] = o.integer ? Math.round(v) : round(v, o.digits ?? 3);
  }
  return out;
}

export function constant(v: number): Values {
  return new Array<number>(POINTS).fill(v);
}

/** The scrape time itself (e.g. node_time_seconds). */
export function wallClock(phaseMs: number): Values {
  const out: Values = new Array(POINTS);
  for (let i = 0; i < POINTS; i++) out[i] = START_S + i * SCRAPE_INTERVAL_S + phaseMs / 1000;
  return out;
}

/**
 * A counter of something created at scrape `from` (a new pod's container): absent before, counting
 * from (near) zero after. Rounded like the input so float noise does not show up in the text.
 */
export function rebase(values: Values, from: number): Values {
  if (from === 0) return values;
  const origin = values[from] ?? 0;
  return values.map((v, i) => (i >= from && v !== undefined ? round(v - origin, 3) : undefined));
}

/** Copies `values`, keeping only scrapes in [from, to) (series appearing/disappearing mid-window). */
export function window(values: Values, from: number, to = POINTS): Values {
  return values.map((v, i) => (i >= from && i < to ? v : undefined));
}

/**
 * Scrape phase of a target. The first target of each job is scraped exactly on the 15 s grid (samples
 * sit on query-range boundaries, where inclusive/exclusive bugs show); the others get a per-shard
 * offset in (0, 15) s, multiples of 125 ms.
 */
export function scrapePhaseMs(shard: string, target: string, onGrid: boolean): number {
  if (onGrid) return 0;
  return 125 * (1 + (hash32(`${shard}/${target}`) % (SCRAPE_INTERVAL_S * 8 - 1)));
}

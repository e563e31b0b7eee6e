// Bounds on what one request may ask, each refused with a Prometheus error that says which bound and
// how to stay within it. They protect the collectors and the router from a runaway dashboard.
import { ApiError } from '../errors.ts';

export interface Limits {
  /** Longest `query` or `match[]` value, in characters (Grafana's multi-value regexes can be long). */
  readonly maxQueryLength: number;
  /** Most `match[]` parameters in one request. */
  readonly maxSelectors: number;
  /** Most shards one request may fan out to. */
  readonly maxShards: number;
  /** Largest answer the router builds itself (merged or evaluated), in bytes of JSON. */
  readonly maxResponseBytes: number;
  /** Requests per second one router instance accepts (0: no limit); bursts up to twice that. */
  readonly requestsPerSecond: number;
  /**
   * Most bytes of collector answers one request reads whole (all its collector requests together):
   * answers across shards, series, label names and values, rules, alerts, metadata. Answers of a
   * single shard's query stream through and are not counted. Past it: 422 naming the shard.
   */
  readonly maxCollectorBytes: number;
  /**
   * Most samples the router holds for one query it evaluates across shards, as Prometheus's
   * `--query.max-samples`: samples fetched from the shards, the router's subquery steps and their
   * samples, and a range query's answer. Past it: 422, Prometheus's own words.
   */
  readonly maxSamples: number;
  /** Most requests one query sends to each shard (distinct leaves times grid parts of 11,000 points). */
  readonly maxRequestsPerShard: number;
}

/**
 * Defaults sized for a 512 MB Lambda, where the router's Node process idles at about 60 MB: measured
 * with `prome-route serve`, a query across two shards that reads 32 MB of collector answers whole
 * peaks at about 450 MB resident, and the router holds about 270 bytes per sample it evaluates
 * (1.4 million samples: 440 MB). A larger machine can raise both (`serve --max-samples`,
 * `--max-collector-bytes`).
 */
export const DEFAULT_LIMITS: Limits = {
  maxQueryLength: 128 * 1024,
  maxSelectors: 256,
  maxShards: 256,
  maxResponseBytes: 256 * 1024 * 1024,
  requestsPerSecond: 0,
  maxCollectorBytes: 32 * 1024 * 1024,
  maxSamples: 1_500_000,
  maxRequestsPerShard: 64,
};

export function checkQueryParams(params: URLSearchParams, limits: Limits): void {
  const selectors = params.getAll('match[]');
  if (selectors.length > limits.maxSelectors) {
    throw new ApiError('bad_data', `too many match[] parameters: ${selectors.length}, the limit is ${limits.maxSelectors}`);
  }
  for (const [name, value] of [['query', params.get('query') ?? ''], ...selectors.map((s) => ['match[]', s])] as const) {
    if (value.length > limits.maxQueryLength) {
      throw new ApiError('bad_data', `invalid parameter ${JSON.stringify(name)}: ${value.length} characters, the limit is ${limits.maxQueryLength}`);
    }
  }
}

export function checkFanOut(shards: number, limits: Limits): void {
  if (shards > limits.maxShards) {
    throw new ApiError('execution', `the request reads ${shards} shards, the limit is ${limits.maxShards}: name fewer clusters`);
  }
}

/** A token bucket: `rate` tokens a second, holding at most two seconds' worth. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly now: () => number = Date.now) {
    this.tokens = 2 * rate;
    this.last = now();
  }

  take(): void {
    if (this.rate <= 0) return;
    const t = this.now();
    this.tokens = Math.min(2 * this.rate, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) throw new ApiError('unavailable', `too many requests: this router accepts ${this.rate} per second`, 429);
    this.tokens -= 1;
  }
}

// Bounds on what one request may ask, each refused with a Prometheus error that says which bound and
// how to stay within it. They protect the collectors and the router from a runaway dashboard.
import { ApiError } from './envelope.ts';

export interface Limits {
  /** Longest `query` or `match[]` value, in characters (Grafana's multi-value regexes can be long). */
  readonly maxQueryLength: number;
  /** Most `match[]` parameters in one request. */
  readonly maxSelectors: number;
  /** Most shards one request may fan out to. */
  readonly maxShards: number;
  /** Largest answer the router builds itself (merged or evaluated), in bytes of JSON. */
  readonly maxResponseBytes: number;
  /** Largest collector answer the router reads to evaluate or merge it, in bytes of JSON. */
  readonly maxCollectorAnswerBytes: number;
  /** Requests per second one router instance accepts (0: no limit); bursts up to twice that. */
  readonly requestsPerSecond: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxQueryLength: 128 * 1024,
  maxSelectors: 256,
  maxShards: 256,
  maxResponseBytes: 256 * 1024 * 1024,
  // Read whole and held while the query is evaluated: a bound per answer keeps a 512 MB function alive.
  maxCollectorAnswerBytes: 64 * 1024 * 1024,
  requestsPerSecond: 0,
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

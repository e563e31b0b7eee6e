// The router's own PromQL values: what it evaluates where a query needs several shards' data at once.
// Floats only: native histograms are not evaluated by the router.

/** A label set, keys in Prometheus order (sorted by name). Includes `__name__` where a series has one. */
export type Labels = Readonly<Record<string, string>>;

/** A sample of a series: `t` in epoch milliseconds. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

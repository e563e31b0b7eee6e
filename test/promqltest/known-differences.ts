// Every query of Prometheus v2.42.0's own test scripts whose answer through the router is not
// identical to the global oracle's, or not what the script expects, with the reason. The end-to-end
// test asserts that exactly these differ: a fix makes it fail until its entry is removed here.

/** How a query is sent: as an instant query at the eval time, or as a range query around it. */
export type Mode = 'instant' | 'range';
/** What the router's answer is compared with: the global Prometheus, or the script's expected values. */
export type Oracle = 'global' | 'script';

export interface KnownDifference {
  file: string;
  line: number;
  expr: string;
  /** The modes and oracles that differ (every combination listed differs, every other agrees). */
  modes: Mode[];
  oracles: Oracle[];
}

export interface DifferenceCategory {
  /**
   * router: the router answers differently from the global Prometheus (a defect or a known limit);
   * split: router and global agree, but the split over shards changes the result the script expects
   * (asserted: the global differs from the script too).
   */
  kind: 'router' | 'split';
  reason: string;
  differences: KnownDifference[];
}

export const KNOWN_DIFFERENCES: DifferenceCategory[] = [
  {
    kind: 'split',
    reason: 'the grouping keeps the shard label (`without (...)`): series of one group in the script sit on several shards, so the global Prometheus, and the router with it, answer one group per shard',
    differences: [
      { file: 'aggregators.test', line: 352, expr: 'count_values without (instance)("version", version)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 359, expr: 'count_values without (instance)("job", version)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 385, expr: 'quantile without(point)(0.8, data)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 391, expr: 'quantile without(point)(scalar(foo), data)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 397, expr: 'quantile without(point)((scalar(foo)), data)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 402, expr: 'quantile without(point)(NaN, data)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 421, expr: 'group without(point)(data)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 348, expr: 'node_cpu / ignoring (mode) group_left sum without (mode)(node_cpu)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 354, expr: 'node_cpu / ignoring (mode) group_left(dummy) sum without (mode)(node_cpu)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 360, expr: 'sum without (instance)(node_cpu) / ignoring (mode) group_left sum without (instance, mode)(node_cpu)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 364, expr: 'sum(sum without (instance)(node_cpu) / ignoring (mode) group_left sum without (instance, mode)(node_cpu))', modes: ['instant', 'range'], oracles: ['script'] },
    ],
  },
  {
    kind: 'split',
    reason: 'vector matching with `ignoring(...)` or set operators still matches on the shard label: pairs the script matches sit on different shards (or `vector(1)` has no shard label), so they do not match on the global Prometheus either',
    differences: [
      { file: 'operators.test', line: 195, expr: '(http_requests{group="canary"} + 1) or ignoring(l, group, job) (http_requests or cpu_count or vector_matching_a)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 219, expr: 'http_requests{group="canary"} unless ignoring(group, instance) http_requests{instance="0"}', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 225, expr: 'http_requests{group="canary"} / ignoring(group) http_requests{group="production"}', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 242, expr: 'http_requests AND IGNORING (group, instance, job) vector(1)', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'operators.test', line: 324, expr: 'node_cpu * ignoring (role, mode) group_left (role) node_role', modes: ['instant', 'range'], oracles: ['script'] },
    ],
  },
  {
    kind: 'split',
    reason: '`label_replace` makes two series collide in the script (an expected error); in the split data they sit on different shards and keep distinct shard labels, so the global Prometheus answers without error, and so does the router',
    differences: [
      { file: 'functions.test', line: 301, expr: 'label_replace(testmetric, "src", "", "", "")', modes: ['instant', 'range'], oracles: ['script'] },
    ],
  },
  {
    kind: 'split',
    reason: '`avg` over +Inf and -Inf depends on the order in which Prometheus meets the series; the shard label changes that order, and the global Prometheus (like the router) answers ±Inf where the script expects NaN',
    differences: [
      { file: 'aggregators.test', line: 482, expr: 'avg(data{test="inf3"})', modes: ['instant', 'range'], oracles: ['script'] },
      { file: 'aggregators.test', line: 491, expr: 'avg(data{test="-inf3"})', modes: ['instant', 'range'], oracles: ['script'] },
    ],
  },
];

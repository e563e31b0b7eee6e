// The metadata answers of a shard's replicas as one: what one Prometheus holding the union of their
// data would list. Each takes the replicas' `data` (already checked against the endpoint's schema).
import { labelsKey } from '../engine/labels.ts';
import { compareStrings, type LabelSet } from '../labelsets.ts';

/** Label names or values: every one any replica lists (the endpoint sorts and deduplicates). */
export function uniteStrings(lists: readonly string[][]): string[] {
  return lists.flat();
}

/** Series: each label set once. */
export function uniteSeries(lists: readonly LabelSet[][]): LabelSet[] {
  const seen = new Map<string, LabelSet>();
  for (const list of lists) for (const labels of list) if (!seen.has(labelsKey(labels))) seen.set(labelsKey(labels), labels);
  return [...seen.values()];
}

interface SeriesExemplars {
  seriesLabels: LabelSet;
  exemplars: unknown[];
}

/**
 * Exemplars: one entry per series, with every exemplar any replica kept, once (replicas scraping the
 * same target store the same exemplar), in time order as Prometheus lists them.
 */
export function uniteExemplars<T extends SeriesExemplars>(lists: readonly T[][]): T[] {
  const bySeries = new Map<string, { entry: T; seen: Set<string> }>();
  for (const list of lists) {
    for (const entry of list) {
      const key = labelsKey(entry.seriesLabels);
      let united = bySeries.get(key);
      if (united === undefined) bySeries.set(key, (united = { entry: { ...entry, exemplars: [] }, seen: new Set() }));
      for (const exemplar of entry.exemplars) {
        const id = JSON.stringify(exemplar);
        if (united.seen.has(id)) continue;
        united.seen.add(id);
        united.entry.exemplars.push(exemplar);
      }
    }
  }
  const timeOf = (e: unknown) => Number((e as { timestamp?: unknown })?.timestamp ?? 0);
  for (const { entry } of bySeries.values()) entry.exemplars.sort((a, b) => timeOf(a) - timeOf(b));
  return [...bySeries.values()].map((u) => u.entry);
}

interface MetricMetadata { type: string; help: string; unit: string }

/**
 * Metric metadata: per metric, each (type, help, unit) once, as one Prometheus lists what its targets
 * expose: replicas scrape the same targets, and a target only one of them reached still counts.
 */
export function uniteMetadata<T extends MetricMetadata>(lists: readonly Record<string, T[]>[]): Record<string, T[]> {
  const byMetric = new Map<string, Map<string, T>>();
  for (const list of lists) {
    for (const [metric, entries] of Object.entries(list)) {
      let known = byMetric.get(metric);
      if (known === undefined) byMetric.set(metric, (known = new Map()));
      for (const e of entries) if (!known.has(JSON.stringify([e.type, e.help, e.unit]))) known.set(JSON.stringify([e.type, e.help, e.unit]), e);
    }
  }
  // fromEntries: a metric named "__proto__" is a key like any other.
  return Object.fromEntries([...byMetric].map(([metric, known]) => [metric, [...known.values()]]));
}

interface Alert { labels: LabelSet; state?: unknown; activeAt?: unknown }

/** Firing before pending before anything else: what Alertmanager acts on when either replica sends it. */
function criticality(state: unknown): number {
  return state === 'firing' ? 2 : state === 'pending' ? 1 : 0;
}

/** The alert that has been active longest in the most critical state. */
function moreCritical<T extends Alert>(a: T, b: T): T {
  const d = criticality(b.state) - criticality(a.state);
  if (d !== 0) return d > 0 ? b : a;
  return Date.parse(String(b.activeAt)) < Date.parse(String(a.activeAt)) ? b : a;
}

/**
 * Active alerts: each alert (label set) once, in its most critical state on any replica (both replicas
 * of an HA pair send their alerts to Alertmanager, which fires on either), active since the earliest.
 * Alerts sharing a label set on one replica (rules of one name in two groups) stay as many.
 */
export function uniteAlertList<T extends Alert>(lists: readonly T[][]): T[] {
  const byKey = new Map<string, T[]>();
  for (const list of lists) {
    const seen = new Map<string, number>();
    for (const alert of list) {
      const key = labelsKey(alert.labels);
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      let united = byKey.get(key);
      if (united === undefined) byKey.set(key, (united = []));
      united[n] = n < united.length ? moreCritical(united[n]!, alert) : alert;
    }
  }
  return [...byKey.values()].flat();
}

export function uniteAlerts<T extends { alerts: Alert[] }>(lists: readonly T[]): T {
  return { ...lists[0]!, alerts: uniteAlertList(lists.map((l) => l.alerts)) };
}

interface Rule { type?: unknown; name?: unknown; query?: unknown; labels?: unknown; duration?: unknown; state?: unknown; lastEvaluation?: unknown; alerts?: Alert[] }
interface RuleGroup { name?: unknown; file?: unknown; rules: Rule[] }

/** Thanos's identity of a rule across replicas: type, name, labels, query and, for alerts, `for`. */
function ruleKey(rule: Rule): string {
  return JSON.stringify([rule.type, rule.name, rule.labels ?? {}, rule.query, rule.type === 'alerting' ? rule.duration : null]);
}

/** Thanos's choice among copies of a rule: the most critical alert state, then the latest evaluation. */
function representative(a: Rule, b: Rule): Rule {
  const d = criticality(b.state) - criticality(a.state);
  if (d !== 0) return d > 0 ? b : a;
  return Date.parse(String(b.lastEvaluation)) > Date.parse(String(a.lastEvaluation)) ? b : a;
}

/**
 * Rule groups, deduplicated as Thanos Query's rules API deduplicates replicas (pkg/rules/rules.go):
 * groups by file and name, sorted so as Prometheus lists them; in a group, each rule once (ruleKey),
 * the copy in the most critical state, else the one evaluated last; rules only one replica has (a
 * rollout in progress) are kept. Unlike Thanos, an alerting rule lists the union of its copies' alerts
 * (uniteAlertList), not only its representative's.
 */
export function uniteRules<T extends { groups: RuleGroup[] }>(lists: readonly T[]): T {
  const groups = new Map<string, { group: RuleGroup; rules: Map<string, Rule[]> }>();
  for (const list of lists) {
    for (const group of list.groups) {
      const key = JSON.stringify([group.file, group.name]);
      let united = groups.get(key);
      if (united === undefined) groups.set(key, (united = { group, rules: new Map() }));
      for (const rule of group.rules) {
        const copies = united.rules.get(ruleKey(rule));
        if (copies === undefined) united.rules.set(ruleKey(rule), [rule]);
        else copies.push(rule);
      }
    }
  }
  const united = [...groups.values()].map(({ group, rules }) => ({
    ...group,
    rules: [...rules.values()].map((copies) => {
      const chosen = copies.reduce(representative);
      return chosen.alerts === undefined ? chosen : { ...chosen, alerts: uniteAlertList(copies.map((c) => c.alerts ?? [])) };
    }),
  }));
  united.sort((a, b) => compareStrings(String(a.file), String(b.file)) || compareStrings(String(a.name), String(b.name)));
  return { ...lists[0]!, groups: united };
}

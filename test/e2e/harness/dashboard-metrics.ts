// Series for the Grafana dashboard corpus. Kubernetes families come from a fixed object model
// (kube-metrics.ts); node_exporter families are exactly those the corpus' selectors name, each with
// its usual label dimensions, plus whatever label values the selectors' equality matchers ask for
// (e.g. every `state="..."` of node_tcp_connection_states), so that every selector matches data.
import { matches } from '../../../lib/promql/matchers.ts';
import { loadDashboardExprs } from './corpus.ts';
import { kubeSeries } from './kube-metrics.ts';
import { nodeFamilyDims, nodeHosts, nodeMetricType, nodeSeriesValues } from './node-metrics.ts';
import type { Host, Labels } from './node-metrics.ts';
import { extractSelectors } from './selectors.ts';
import type { Matcher, Selector } from './selectors.ts';
import type { Series } from './series.ts';
import { dashboardExprToPromQL, substituteVariables } from './variables.ts';

export const SHARD_LABEL = 'cluster';

/** Every vector selector of the dashboard corpus, variables substituted for `shard`. */
export function dashboardSelectors(shard: string): Selector[] {
  return loadDashboardExprs().flatMap((e) => extractSelectors(dashboardExprToPromQL(substituteVariables(e, shard))));
}

/** Whether a selector selects a series (Prometheus matcher semantics: a missing label is ""). */
export function selectorMatches(sel: Selector, name: string, labels: Labels): boolean {
  if (sel.metric !== null && sel.metric !== name) return false;
  return sel.matchers.every((m) => matches(m, m.name === '__name__' ? name : (labels[m.name] ?? '')));
}

/** Labels a matcher needs that a label set lacks, if it can be satisfied by adding one literal value. */
function literalFor(m: Matcher): string | null {
  if (m.op === '=') return m.value;
  if (m.op === '=~') {
    // First alternative of a plain alternation such as `idle|iowait|steal`.
    const alt = m.value.split('|')[0] ?? '';
    return /^[\w.:/-]+$/.test(alt) && matches(m, alt) ? alt : null;
  }
  return null;
}

const TARGET_LABELS = new Set(['job', 'instance', SHARD_LABEL, '__name__']);

/**
 * Label sets of one node_exporter family on each host: its usual dimensions, plus one extra label set
 * per selector nothing matches yet (first dimension with the selector's literal values filled in).
 */
function nodeFamilyLabelSets(name: string, hosts: Host[], selectors: Selector[], shard: string): Map<Host, Labels[]> {
  const sets = new Map(hosts.map((h) => [h, nodeFamilyDims(name, h)] as const));
  const full = (h: Host, dims: Labels): Labels => ({ ...dims, ...h.target, [SHARD_LABEL]: shard });
  for (const sel of selectors) {
    if (hosts.some((h) => sets.get(h)!.some((d) => selectorMatches(sel, name, full(h, d))))) continue;
    for (const h of hosts) {
      // Only hosts the selector's job/instance matchers accept can satisfy it.
      if (!sel.matchers.filter((m) => TARGET_LABELS.has(m.name)).every((m) => matches(m, full(h, {})[m.name] ?? ''))) continue;
      const dims = { ...(sets.get(h)![0] ?? {}) };
      for (const m of sel.matchers) {
        if (TARGET_LABELS.has(m.name) || matches(m, dims[m.name] ?? '')) continue;
        const v = literalFor(m);
        if (v !== null) dims[m.name] = v;
      }
      if (selectorMatches(sel, name, full(h, dims))) sets.get(h)!.push(dims);
    }
  }
  return sets;
}

export function dashboardSeries(shard: string, seed: number): Series[] {
  const selectors = dashboardSelectors(shard);
  const hosts = nodeHosts(shard, seed);
  // Like the node_exporter families, only the Kubernetes families the corpus names are kept (the object
  // model emits both kube_<kind>_info and kube_<kind>_labels; dashboards count one or the other).
  const referenced = new Set(selectors.map((s) => s.metric));
  const out = kubeSeries(shard, seed, hosts).filter((s) => referenced.has(s.name));
  const produced = new Set(out.map((s) => s.name));

  const byName = new Map<string, Selector[]>();
  for (const sel of selectors) {
    if (sel.metric === null || produced.has(sel.metric)) continue;
    byName.set(sel.metric, [...(byName.get(sel.metric) ?? []), sel]);
  }
  // Sorted so the output does not depend on corpus order.
  for (const name of [...byName.keys()].sort()) {
    const type = nodeMetricType(name);
    const family = type === 'counter' ? name.replace(/_total$/, '') : name;
    for (const [host, labelSets] of nodeFamilyLabelSets(name, hosts, byName.get(name)!, shard)) {
      for (const labels of labelSets) {
        const values = nodeSeriesValues(name, host, labels, seed);
        if (values) out.push({ family, type, name, labels: { ...labels, ...host.target }, phaseMs: host.phaseMs, values });
      }
    }
  }
  return out;
}

/**
 * Selectors of the corpus that match none of `series` (labels as stored in a shard, i.e. without the
 * shard label, which is added here). Empty when the data covers the corpus.
 */
export function unmatchedSelectors(series: Series[], shard: string, selectors = dashboardSelectors(shard)): Selector[] {
  return selectors.filter((sel) => !series.some((s) => selectorMatches(sel, s.name, { ...s.labels, [SHARD_LABEL]: shard })));
}

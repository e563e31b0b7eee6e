// Grafana template variables used by the dashboard corpus, mapped to concrete values that exist in the
// generated data (see generate.ts). The same instance/node names exist in every shard on purpose: the
// router must keep series apart only by the `cluster` label it adds, never by the other labels.

/** job label of the node_exporter series (the node-mixin hard-codes `job="node"`, so it must be this). */
export const NODE_JOB = 'node';
/** node_exporter instances present in every shard; the first one is what `$node`/`$instance` select. */
export const NODE_INSTANCES = ['node-1:9100', 'node-2:9100'] as const;
/** `nodename` label (node_uname_info) of each NODE_INSTANCES entry, same order. */
export const NODE_NAMES = ['node-1', 'node-2'] as const;
export const SELECTED_INSTANCE: string = NODE_INSTANCES[0];
export const SELECTED_NODENAME: string = NODE_NAMES[0];
/** `$__rate_interval`: 4 × the 15 s scrape interval, as Grafana would compute it. */
export const RATE_INTERVAL = '1m';

/** Values for every variable, given the shard whose dashboard is being looked at. */
export function variableValues(shard: string): Record<string, string> {
  return {
    cluster: shard,
    __rate_interval: RATE_INTERVAL,
    job: NODE_JOB,
    node: SELECTED_INSTANCE,
    instance: SELECTED_INSTANCE,
    nodename: SELECTED_NODENAME,
  };
}

// `${var}` and `${var:format}` first, then `[[var]]`, then bare `$var` (longest identifier).
const VARIABLE_RE = /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)/g;

/**
 * Replaces Grafana variables in a dashboard expression. Unknown variables are left untouched so a
 * test notices them (the query will fail to parse or match nothing) instead of silently matching.
 */
export function substituteVariables(expr: string, shard: string): string {
  const values = variableValues(shard);
  return expr.replace(VARIABLE_RE, (whole, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? '';
    return values[name] ?? whole;
  });
}

/**
 * Grafana's `label_values(selector, label)` templating syntax is not PromQL. Returns its parts (the
 * selector may be absent: `label_values(label)`), or null for a PromQL expression.
 */
export function parseLabelValues(expr: string): { selector: string | null; label: string } | null {
  const m = /^\s*label_values\(\s*(?:(.*)\s*,\s*)?(\w+)\s*\)\s*$/s.exec(expr);
  if (!m) return null;
  return { selector: m[1]?.trim() || null, label: m[2]! };
}

/**
 * An instant-query PromQL equivalent of a dashboard expression: `label_values(sel, l)` becomes
 * `count by (l) (sel)` (non-empty exactly when the variable would have values); PromQL passes through.
 */
export function dashboardExprToPromQL(expr: string): string {
  const lv = parseLabelValues(expr);
  if (!lv) return expr;
  const selector = lv.selector ?? `{${lv.label}!=""}`;
  return `count by (${lv.label}) (${selector})`;
}

// Grafana provisioning examples: the data sources point at prome-route the way the router expects
// (form POST, a bearer token), and the dashboard's queries are PromQL the router parses, once Grafana's
// variables are put in as Grafana would.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parsePromQL } from '../../lib/promql/parse.ts';
import { repoRoot } from './tools.ts';

const dir = join(repoRoot, 'infra/grafana');

const DataSource = v.strictObject({
  name: v.string(),
  uid: v.string(),
  type: v.literal('prometheus'),
  access: v.literal('proxy'),
  url: v.pipe(v.string(), v.regex(/^\$\{PROME_ROUTE_\w+_URL\}$/)),
  isDefault: v.optional(v.boolean()),
  editable: v.optional(v.boolean()),
  jsonData: v.strictObject({
    httpMethod: v.literal('POST'),
    timeout: v.pipe(v.number(), v.minValue(26), v.maxValue(60)),
    prometheusType: v.literal('Prometheus'),
    timeInterval: v.optional(v.string()),
    httpHeaderName1: v.literal('Authorization'),
  }),
  secureJsonData: v.strictObject({ httpHeaderValue1: v.pipe(v.string(), v.regex(/^Bearer \$\{PROME_ROUTE_\w*TOKEN\}$/)) }),
});

type Panel = { id: number; type: string; title: string; datasource: unknown; targets?: { refId: string; expr: string; datasource: unknown }[]; panels?: Panel[] };
type Dashboard = { uid: string; title: string; templating: { list: Record<string, any>[] }; panels: Panel[] };

/**
 * A query as Grafana sends it: template variables replaced, a multi-value $cluster in a regex matcher
 * becoming an alternation of regex-escaped values (All: every value), the interval variables durations.
 */
function interpolate(expr: string, clusters: readonly string[]): string {
  const builtins: Record<string, string> = {
    __rate_interval: '2m', __interval: '30s', __interval_ms: '30000', __range: '6h', __range_s: '21600', __range_ms: '21600000',
  };
  return expr
    .replace(/\$\{?(__\w+)\}?/g, (whole, name: string) => builtins[name] ?? whole)
    .replace(/\$\{?cluster\}?/g, clusters.length === 1 ? clusters[0]! : `(${clusters.join('|')})`);
}

let datasources: { apiVersion: number; datasources: unknown[] };
let dashboard: Dashboard;
const panels = () => dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

beforeAll(async () => {
  datasources = parse(await readFile(join(dir, 'datasources.yml'), 'utf8'));
  dashboard = JSON.parse(await readFile(join(dir, 'dashboards/prome-route-overview.json'), 'utf8'));
});

describe('infra/grafana/datasources.yml', () => {
  it('provisions one Prometheus data source per cloud: POST, bearer token from the environment, a timeout', () => {
    expect(datasources.apiVersion).toBe(1);
    const parsed = datasources.datasources.map((d) => v.parse(DataSource, d));
    expect(parsed.map((d) => d.uid).sort()).toEqual(['prome-route-aliyun', 'prome-route-aws']);
    expect(new Set(parsed.map((d) => d.url)).size).toBe(2);
    expect(new Set(parsed.map((d) => d.secureJsonData.httpHeaderValue1)).size).toBe(2);
    expect(parsed.filter((d) => d.isDefault)).toHaveLength(1);
  });
});

describe('infra/grafana/dashboards.yml', () => {
  it('is a file provider for the dashboards directory', async () => {
    const providers = parse(await readFile(join(dir, 'dashboards.yml'), 'utf8'));
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: expect.stringMatching(/^\//) }) })]);
    expect(await readdir(join(dir, 'dashboards'))).toContain('prome-route-overview.json');
  });
});

describe('infra/grafana/dashboards/prome-route-overview.json', () => {
  it('has a $datasource variable of Prometheus data sources and a multi-value $cluster with All', () => {
    const variables = Object.fromEntries(dashboard.templating.list.map((t) => [t.name, t]));
    expect(Object.keys(variables)).toEqual(['datasource', 'cluster']);
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const cluster = variables.cluster!;
    expect(cluster).toMatchObject({ type: 'query', multi: true, includeAll: true, datasource: { type: 'prometheus', uid: '${datasource}' } });
    expect(cluster.definition).toBe('label_values(up, cluster)');
    expect(cluster.query.query).toBe(cluster.definition);
    // Grafana asks /api/v1/label/cluster/values?match[]=up: a selector the router parses, and the shard label.
    const [, selector, label] = /^label_values\((.+),\s*(\w+)\)$/.exec(cluster.definition)!;
    expect(label).toBe('cluster');
    expect(() => parsePromQL(selector!)).not.toThrow();
  });

  it('queries through $datasource in every panel and target', () => {
    expect(panels().length).toBeGreaterThanOrEqual(2);
    for (const panel of panels()) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('has expressions that select on $cluster and parse with the router parser, for one, several and All clusters', () => {
    const expressions = panels().flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(expressions.length).toBeGreaterThanOrEqual(2);
    expect(expressions).toContain('sum by (cluster) (rate(node_cpu_seconds_total{cluster=~"$cluster", mode!="idle"}[$__rate_interval]))');
    for (const expr of expressions) {
      expect(expr).toMatch(/cluster=~"\$cluster"/);
      // Every variable is one the dashboard defines or a Grafana built-in.
      for (const [, name] of expr.matchAll(/\$\{?(\w+)/g)) expect(['cluster', '__rate_interval', '__interval', '__range']).toContain(name);
      if (expr.includes('$__rate_interval')) expect(() => parsePromQL(expr)).toThrow();
      for (const clusters of [['a'], ['a', 'b'], ['a', 'b', 'c']]) {
        const query = interpolate(expr, clusters);
        expect(query).not.toContain('$');
        expect(() => parsePromQL(query), query).not.toThrow();
      }
    }
  });

  it('has unique panel ids and a stable uid', () => {
    const ids = panels().map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('prome-route-overview');
  });
});

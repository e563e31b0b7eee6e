// `npm run demo`: three local collectors (real Prometheus servers with generated data, no cluster
// label), one global Prometheus with all data as the reference, and the router in front of the
// collectors. Sends a few Grafana-style requests through the router, shows that they answer what the
// global Prometheus answers, then keeps serving for Grafana or curl until Ctrl-C (`--once` stops).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { diffAnswers } from '../test/e2e/compare.ts';
import { EVAL_TIME, RANGE } from '../test/e2e/harness/generate.ts';
import { startCluster, writeShardMap } from '../test/e2e/harness/prometheus.ts';
import { callApi, startRouter } from '../test/e2e/router.ts';

const once = process.argv.includes('--once');
const listen = process.argv.find((a) => a.startsWith('--listen='))?.slice('--listen='.length) ?? '127.0.0.1:9091';

for (const tool of ['prometheus', 'promtool']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    console.error(`${tool} is not installed. Run scripts/setup.sh (it runs: apt-get install -y prometheus), then npm run demo.`);
    process.exit(1);
  }
}

console.log('Generating data and starting 3 collectors (a, b, c) and a global reference Prometheus...');
const cluster = await startCluster({ shards: ['a', 'b', 'c'] });
const mapFile = path.join(cluster.dataDir, 'shards.json');
await writeShardMap(mapFile, cluster.shards);
for (const [shard, url] of Object.entries(cluster.shards)) console.log(`  collector ${shard}: ${url} (no cluster label)`);
console.log(`  global reference: ${cluster.globalUrl} (all data, with cluster label)`);
const router = await startRouter(mapFile, listen);
console.log(`Router: ${router.url}  (prome-route serve --shards ${mapFile})\n`);

const at = new Date(EVAL_TIME * 1000).toISOString();
const requests: { title: string; path: string; params: Record<string, string> }[] = [
  { title: 'one cluster, instant', path: '/api/v1/query', params: { query: 'demo_num_cpus{cluster="b"}', time: String(EVAL_TIME) } },
  { title: 'per-cluster rate, range', path: '/api/v1/query_range', params: { query: 'sum by (cluster, mode) (rate(demo_cpu_usage_seconds_total{cluster="a"}[5m]))', start: String(RANGE.start), end: String(RANGE.end), step: String(RANGE.step) } },
  { title: "Grafana's $cluster variable", path: '/api/v1/label/cluster/values', params: { 'match[]': 'node_uname_info{job="node"}' } },
  { title: 'series of one cluster', path: '/api/v1/series', params: { 'match[]': 'demo_num_cpus{cluster="c"}', start: String(RANGE.start), end: String(RANGE.end) } },
  { title: 'a typo', path: '/api/v1/query', params: { query: 'sum(rate(demo_cpu_usage_seconds_total{cluster="a"}[5m])', time: String(EVAL_TIME) } },
];

let allMatch = true;
for (const r of requests) {
  const [answer, reference] = await Promise.all([
    // Prometheus serves label values on GET only; the rest go as Grafana's default, a form POST.
    callApi(router.url, r.path, r.params, r.path.includes('/label/') ? 'GET' : 'POST'),
    callApi(cluster.globalUrl, r.path, r.params, 'GET'),
  ]);
  const same = r.path.includes('/query')
    ? diffAnswers(answer, reference, false) === null
    : JSON.stringify(answer.body) === JSON.stringify(reference.body);
  allMatch &&= same;
  console.log(`${r.title}: ${r.path} ${JSON.stringify(r.params.query ?? r.params['match[]'])}`);
  console.log(`  router: ${summarise(answer.body)}`);
  console.log(`  same as the global Prometheus: ${same ? 'yes' : 'NO'}\n`);
}

function summarise(body: { status: string; error?: string; data?: unknown }): string {
  if (body.status !== 'success') return `error: ${body.error}`;
  const data = body.data as { resultType?: string; result?: { metric: Record<string, string> }[] } | unknown[];
  if (Array.isArray(data)) return JSON.stringify(data).slice(0, 160);
  const series = data.result ?? [];
  return `${series.length} series, e.g. ${JSON.stringify(series[0]?.metric ?? {})}`;
}

const stop = async () => {
  await router.stop();
  await cluster.stop();
};
if (once) {
  await stop();
  process.exit(allMatch ? 0 : 1);
}
console.log(`Serving. Point a Grafana Prometheus data source at ${router.url} (data lies around ${at}), or try:`);
console.log(`  curl '${router.url}/api/v1/query' --data-urlencode 'query=demo_num_cpus{cluster="a"}' -d time=${EVAL_TIME}`);
console.log('Ctrl-C stops everything.');
process.once('SIGINT', () => void stop().then(() => process.exit(0)));
process.once('SIGTERM', () => void stop().then(() => process.exit(0)));

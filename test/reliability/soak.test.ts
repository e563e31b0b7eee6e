// A soak of the local server: a steady rate of mixed Grafana-style requests for a minute (SOAK_SECONDS)
// against real collectors. Zero errors, and the router's memory stays flat once warmed up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EVAL_TIME, RANGE } from '../e2e/harness/generate.ts';
import { startCluster, writeShardMap, type Cluster } from '../e2e/harness/prometheus.ts';
import { callApi, startRouter, type RunningRouter } from '../e2e/router.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const RATE = 40; // requests per second
const WARM_UP_SECONDS = Math.min(15, SECONDS / 4);

let cluster: Cluster;
let router: RunningRouter;

beforeAll(async () => {
  cluster = await startCluster({ shards: ['a', 'b', 'c'] });
  const mapFile = path.join(cluster.dataDir, 'shards.json');
  await writeShardMap(mapFile, cluster.shards);
  router = await startRouter(mapFile);
});

afterAll(async () => {
  await router?.stop();
  await cluster?.stop();
});

const window = { start: String(RANGE.start), end: String(RANGE.end), step: String(RANGE.step) };
const MIX: [string, Record<string, string>, 'GET' | 'POST'][] = [
  ['/api/v1/query', { query: 'demo_num_cpus{cluster="a"}', time: String(EVAL_TIME) }, 'POST'],
  ['/api/v1/query_range', { query: 'sum by (cluster, mode) (rate(demo_cpu_usage_seconds_total{cluster="b"}[5m]))', ...window }, 'POST'],
  ['/api/v1/query_range', { query: 'histogram_quantile(0.9, sum by (le) (rate(demo_api_request_duration_seconds_bucket[5m])))', ...window }, 'POST'],
  ['/api/v1/query', { query: 'topk(5, sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[1m])))', time: String(EVAL_TIME) }, 'GET'],
  ['/api/v1/label/cluster/values', { 'match[]': 'node_uname_info{job="node"}' }, 'GET'],
  ['/api/v1/series', { 'match[]': 'demo_num_cpus', start: window.start, end: window.end }, 'POST'],
];

/** Resident memory of the router process, from the kernel. */
function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

it(`serves ${RATE} mixed requests a second for ${SECONDS} s without errors or growing memory`, async () => {
  const pid = router.process.pid!;
  const failures: string[] = [];
  const samples: { at: number; rss: number }[] = [];
  let sent = 0;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  while (Date.now() - started < SECONDS * 1000) {
    const [apiPath, params, method] = MIX[sent % MIX.length]!;
    sent++;
    const request = callApi(router.url, apiPath, params, method).then((answer) => {
      if (answer.httpStatus !== 200 || answer.body.status !== 'success' || answer.body.warnings !== undefined) {
        failures.push(`${apiPath} ${JSON.stringify(params)}: ${answer.httpStatus} ${JSON.stringify(answer.body).slice(0, 200)}`);
      }
    }, (err: Error) => void failures.push(`${apiPath}: ${err.message}`));
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
    if (sent % RATE === 0) samples.push({ at: (Date.now() - started) / 1000, rss: rssBytes(pid) });
    const due = started + (sent * 1000) / RATE;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
  }
  await Promise.all(inFlight);
  samples.push({ at: (Date.now() - started) / 1000, rss: rssBytes(pid) });

  expect(failures).toEqual([]);
  const warm = samples.filter((s) => s.at >= WARM_UP_SECONDS);
  const first = warm[0]!.rss;
  const peak = Math.max(...warm.map((s) => s.rss));
  console.log(`soak: ${sent} requests in ${SECONDS} s, RSS after warm-up ${(first / 1e6).toFixed(1)} MB, peak ${(peak / 1e6).toFixed(1)} MB`);
  // Flat: after warm-up the router may settle, not grow with the number of requests served.
  expect(peak).toBeLessThan(first * 1.25 + 16e6);
}, (SECONDS + 60) * 1000);

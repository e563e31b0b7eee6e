// `prome-route serve` as users run it, a child process, where what matters is the process itself:
// its memory under hostile request bodies, its deadline for requests that trickle in, its shard map
// reloaded on SIGHUP.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVAL_TIME } from '../e2e/harness/generate.ts';
import { startCluster, startPrometheus, writeShardMap, type Cluster } from '../e2e/harness/prometheus.ts';
import { startRouter, type RunningRouter } from '../e2e/router.ts';

let cluster: Cluster;
const routers: RunningRouter[] = [];

beforeAll(async () => {
  cluster = await startCluster({ shards: ['a', 'b'] });
});

afterAll(async () => {
  await Promise.all(routers.map((r) => r.stop()));
  await cluster?.stop();
});

async function routerFor(shards: Record<string, string>, file: string, ...args: string[]): Promise<RunningRouter> {
  const mapFile = path.join(cluster.dataDir, file);
  await writeShardMap(mapFile, shards);
  const router = await startRouter(mapFile, '127.0.0.1:0', { args });
  routers.push(router);
  return router;
}

/** The process's memory from the kernel, in MiB: now (VmRSS) and its peak so far (VmHWM). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

interface Answer { status: number; body: string }

/**
 * A form POST whose body is `size` bytes sent as fast as the router takes it, or one byte every
 * `trickleMs`; chunked unless `declared`. Sending stops once the answer has come.
 */
function post(base: string, options: { size: number; declared?: boolean; trickleMs?: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL('/api/v1/query', base);
    const headers: Record<string, string | number> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (options.declared) headers['content-length'] = options.size;
    const request = http.request(url, { method: 'POST', headers });
    let answered = false;
    let sent = 0;
    request.on('response', (response) => {
      answered = true;
      let body = '';
      response.on('data', (d: Buffer) => (body += d.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    // Writing on after the router refused the body ends in EPIPE or a reset; the answer counts.
    request.on('error', (err) => !answered && reject(err));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('query=');
    const pump = () => {
      while (!answered && sent < options.size) {
        if (options.trickleMs !== undefined) {
          request.write('x');
          sent += 1;
          setTimeout(pump, options.trickleMs);
          return;
        }
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      if (!answered) request.end();
    };
    pump();
  });
}

describe('request bodies', () => {
  let router: RunningRouter;
  beforeAll(async () => {
    router = await routerFor(cluster.shards, 'bodies.json', '--timeout', '2');
  });

  it('refuses chunked bodies beyond 4 MiB as they arrive, without holding them in memory', async () => {
    const pid = router.process.pid!;
    const before = memory(pid).rss;
    // Two at once, 160 MiB each: read whole before the limit applied, they took the process past 1 GB.
    const answers = await Promise.all(Array.from({ length: 2 }, () => post(router.url, { size: 160 * 1024 * 1024 })));
    for (const answer of answers) {
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ status: 'error', errorType: 'bad_data', error: 'request body exceeds 4194304 bytes' });
    }
    const after = memory(pid);
    expect(after.peak - before, `peak ${after.peak.toFixed(0)} MiB, ${before.toFixed(0)} MiB before`).toBeLessThan(64);
    expect((await fetch(`${router.url}/-/healthy`)).status).toBe(200);
  }, 60_000);

  it.each([
    ['chunked', false],
    ['of declared length', true],
  ])('answers a body %s that trickles in when the deadline comes, not when the client is done', async (_what, declared) => {
    // 1,000 bytes at one every 50 ms would take 50 s; the router's timeout is 2 s.
    const answer = await post(router.url, { size: 1000, declared, trickleMs: 50 });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toEqual({
      status: 'error', errorType: 'timeout',
      error: "request body not received in time: the whole request must arrive within the router's timeout",
    });
  });
});

describe('SIGHUP', () => {
  /** Waits for the router's next log line with this message. */
  async function nextLog(router: RunningRouter, msg: string): Promise<Record<string, unknown>> {
    const seen = router.logs.length;
    for (;;) {
      for (const line of router.logs.slice(seen)) {
        const entry = (() => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return null;
          }
        })();
        if (entry?.msg === msg) return entry;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const clusters = async (router: RunningRouter) =>
    ((await (await fetch(`${router.url}/api/v1/label/cluster/values`)).json()) as { data: string[] }).data;

  it('reloads the shard map, after validating it, and keeps the old one when the new one is invalid', async () => {
    const router = await routerFor({ a: cluster.shards.a! }, 'reload.json');
    const mapFile = path.join(cluster.dataDir, 'reload.json');
    expect(await clusters(router)).toEqual(['a']);

    await writeShardMap(mapFile, cluster.shards);
    const reloaded = nextLog(router, 'shard map reloaded');
    router.process.kill('SIGHUP');
    expect(await reloaded).toMatchObject({ level: 'info', file: mapFile, shardLabel: 'cluster', shards: ['a', 'b'] });
    expect(await clusters(router)).toEqual(['a', 'b']);

    await writeFile(mapFile, JSON.stringify({ shards: { a: 'ftp://nowhere' } }));
    const failed = nextLog(router, 'shard map reload failed; keeping the map in force');
    router.process.kill('SIGHUP');
    expect(await failed).toMatchObject({ level: 'error', file: mapFile, error: expect.stringContaining('shards.a: must be an absolute http(s) URL') });
    expect(await clusters(router)).toEqual(['a', 'b']);
    expect(router.process.exitCode).toBeNull();
  });
});

describe('evaluation across shards', () => {
  const instant = (base: string, query: string) => `${base}/api/v1/query?query=${encodeURIComponent(query)}&time=${EVAL_TIME}`;

  it('refuses a subquery with a tiny step as Prometheus does, at once and without the memory it would take', async () => {
    const router = await routerFor(cluster.shards, 'samples.json');
    const pid = router.process.pid!;
    const before = memory(pid).rss;
    // 86.4 million steps: the router held them all (3 GB, then a timeout). vector(1) gives every step
    // a sample, so a Prometheus counts past its limit too: the global one would take a minute to get
    // past its 50 million, one started with a limit of 100,000 says so at once, in the same words.
    const query = 'max_over_time((sum(demo_num_cpus) or vector(1))[1d:1ms])';
    const dataDir = path.join(cluster.dataDir, 'limited', 'data');
    await mkdir(dataDir, { recursive: true });
    const limited = await startPrometheus({ dataDir, readyQuery: 'vector(1)', extraArgs: ['--query.max-samples=100000'] }, 'limited');
    try {
      const answer = await fetch(instant(router.url, query));
      const oracle = await fetch(instant(limited.url, query));
      expect(answer.status).toBe(422);
      expect(answer.status).toBe(oracle.status);
      expect(await answer.json()).toEqual(await oracle.json());
    } finally {
      await limited.stop();
    }
    expect(memory(pid).peak - before).toBeLessThan(64);
  });

  it('unites a shard answering 150,000 series (spread into one call, they overflowed the stack: 500)', async () => {
    const many = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const rows = Array.from({ length: 150_000 }, (_, i) => `{"metric":{"__name__":"demo_num_cpus","instance":"i${i}"},"value":[${EVAL_TIME},"1"]}`);
      res.end(`{"status":"success","data":{"resultType":"vector","result":[${rows.join(',')}]}}`);
    });
    await new Promise<void>((resolve) => many.listen(0, '127.0.0.1', resolve));
    try {
      const router = await routerFor({ a: cluster.shards.a!, f: `http://127.0.0.1:${(many.address() as AddressInfo).port}` }, 'many.json');
      const answer = await fetch(instant(router.url, 'demo_num_cpus'));
      expect(answer.status).toBe(200);
      const result = ((await answer.json()) as { data: { result: { metric: Record<string, string> }[] } }).data.result;
      expect(result.filter((s) => s.metric.cluster === 'f')).toHaveLength(150_000);
    } finally {
      many.close();
    }
  });

  it("refuses a collector's 300 MB answer, naming the shard, without reading it into memory", async () => {
    // A collector that answers every query with 300 MB of series, made as they are sent.
    const huge = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"vector","result":[');
      const row = `{"metric":{"__name__":"demo_num_cpus","instance":"${'i'.repeat(60)}"},"value":[${EVAL_TIME},"1"]},`;
      const block = row.repeat(Math.ceil(65536 / row.length));
      let sent = 0;
      const pump = () => {
        while (sent < 300e6 && !res.destroyed) {
          sent += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end(`${row.slice(0, -1)}]}}`);
      };
      pump();
    });
    await new Promise<void>((resolve) => huge.listen(0, '127.0.0.1', resolve));
    try {
      const router = await routerFor({ a: cluster.shards.a!, f: `http://127.0.0.1:${(huge.address() as AddressInfo).port}` }, 'huge.json');
      const pid = router.process.pid!;
      const before = memory(pid).rss;
      const answer = await fetch(instant(router.url, 'demo_num_cpus'));
      expect(answer.status).toBe(422);
      expect(((await answer.json()) as { error: string }).error).toMatch(/^shard "f": query processing would load more than 33554432 bytes of collector answers into memory/);
      const after = memory(pid);
      expect(after.peak - before, `peak ${after.peak.toFixed(0)} MiB, ${before.toFixed(0)} MiB before`).toBeLessThan(128);
    } finally {
      huge.closeAllConnections();
      huge.close();
    }
  });

  it('keeps answering health checks while it evaluates a long query, and answers it as Prometheus does', async () => {
    // 1.2 million subquery steps evaluated by the router, within a raised sample limit.
    const router = await routerFor(cluster.shards, 'long.json', '--max-samples', '5000000');
    const query = 'count(demo_num_cpus) + 0 * scalar(max_over_time(vector(1)[20m:1ms]))';
    let done = false;
    const answered = fetch(instant(router.url, query)).then(async (r) => {
      done = true;
      return { status: r.status, body: await r.json() };
    });
    let healthyInFlight = 0;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const health = await fetch(`${router.url}/-/healthy`);
      if (!done && health.status === 200) healthyInFlight++;
    }
    const { status, body } = await answered;
    // Evaluated in one go, the query blocked the event loop for seconds: no health check got through.
    expect(healthyInFlight).toBeGreaterThanOrEqual(5);
    expect(status).toBe(200);
    expect(body).toEqual(await (await fetch(instant(cluster.globalUrl, query))).json());
  }, 90_000);
});

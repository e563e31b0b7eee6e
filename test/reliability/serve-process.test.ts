// `prome-route serve` as users run it, a child process, where what matters is the process itself:
// its memory under hostile request bodies, its deadline for requests that trickle in, its shard map
// reloaded on SIGHUP.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, writeShardMap, type Cluster } from '../e2e/harness/prometheus.ts';
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
  const router = await startRouter(mapFile, '127.0.0.1:0', args);
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

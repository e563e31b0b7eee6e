// Large answers: a query_range of every series of shard a over the whole dataset, through
// `prome-route serve` (the real CLI) and straight from the collector. The router streams a single
// shard's answer through, adding the shard label; this measures what that costs in time and memory.
//
//   time     warm router, direct, nginx and router requests alternating, medians (client reads every
//            byte); nginx shows what any proxy hop costs on this machine
//   memory   a fresh router per measurement: VmHWM (peak RSS) from /proc/<pid>/status, against the
//            answer's size; and the growth during the request alone (peak reset just before it)
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { END_S, START_S } from '../test/e2e/harness/generate.ts';
import { SMALL_YOUNG_GENERATION, startNginx, startRouterCli } from './servers.ts';
import { sleep } from '../test/e2e/harness/processes.ts';
import { Markdown, mb, median, procStatusBytes, ratio, type BenchContext } from './support.ts';

const SHARD = 'a';
const TIME_RUNS = Number(process.env.BENCH_LARGE_RUNS ?? 9);
const FRESH_ROUTERS = 3;
const STALL_MS = 1500;
const TIME_TARGET = 1.2;
const MEMORY_TARGET = 3;

/** Reads the whole body without keeping it; returns its size (and, if asked, the text). */
async function get(url: string, keep = false): Promise<{ bytes: number; ms: number; text?: string }> {
  const t0 = performance.now();
  // Both sides uncompressed: the router asks collectors for identity and `serve` does not compress.
  const response = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (keep) chunks.push(value);
  }
  const ms = performance.now() - t0;
  return { bytes, ms, ...(keep ? { text: Buffer.concat(chunks).toString('utf8') } : {}) };
}

/** Reads the first chunk, stops reading for `pauseMs`, then reads the rest; returns the body's size. */
function stalledGet(url: string, pauseMs: number, beforeResume: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'accept-encoding': 'identity' } }, (res) => {
      let bytes = 0;
      let paused = false;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (!paused) {
          paused = true;
          res.pause();
          setTimeout(() => {
            beforeResume();
            res.resume();
          }, pauseMs);
        }
      });
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    }).on('error', reject);
  });
}

interface RangeAnswer { status: string; data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }

export async function largeAnswers(ctx: BenchContext): Promise<string> {
  const collector = ctx.shards[SHARD]!;
  const md = new Markdown();
  md.text(
    `large answers: \`{__name__=~".+", cluster="${SHARD}"}\` through \`prome-route serve\` vs \`{__name__=~".+"}\` straight to shard ${SHARD}'s `
      + `collector (and through nginx, as in the overhead part), query_range over the whole dataset (2 h); uncompressed on both sides. `
      + `Time: one warm router, ${TIME_RUNS} direct/nginx/router triples `
      + `alternating, medians. Memory: ${FRESH_ROUTERS} fresh router processes per size (medians), each serving one small query then the large one; `
        + 'peak = VmHWM of the router process; growth = VmHWM during the large request (reset with clear_refs just before) less VmRSS before it.',
  );
  const timeRows: (string | number)[][] = [];
  const memRows: (string | number)[][] = [];
  const verdicts: string[] = [];
  const memoryVerdicts: string[] = [];
  let stallRow: (string | number)[] | null = null;
  const nginx = await startNginx(collector, ctx.workDir);
  try {
    for (const step of [15, 5]) {
      const params = (query: string) => new URLSearchParams({ query, start: String(START_S), end: String(END_S), step: String(step) });
      const directUrl = `${collector}/api/v1/query_range?${params('{__name__=~".+"}')}`;
      const routerPath = `/api/v1/query_range?${params(`{__name__=~".+", cluster="${SHARD}"}`)}`;

      // --- time, warm router ---
      const router = await startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-large');
      let sizes: { direct: number; router: number };
      const times = { direct: [] as number[], nginx: [] as number[], router: [] as number[] };
      const nginxUrl = directUrl.replace(collector, nginx.url);
      let warmPeak: number;
      try {
        // Check once that the router answers what the collector does, with the label added.
        const [d, r] = [await get(directUrl, true), await get(router.url + routerPath, true)];
        const [dj, rj] = [JSON.parse(d.text!) as RangeAnswer, JSON.parse(r.text!) as RangeAnswer];
        const key = (m: Record<string, string>) => JSON.stringify(Object.entries(m).filter(([k]) => k !== 'cluster').sort());
        const directSeries = new Map(dj.data.result.map((s) => [key(s.metric), s.values]));
        if (rj.status !== 'success' || rj.data.result.length !== dj.data.result.length
          || !rj.data.result.every((s) => s.metric.cluster === SHARD && JSON.stringify(directSeries.get(key(s.metric))) === JSON.stringify(s.values))) {
          throw new Error(`router's answer differs from the collector's (${rj.data.result.length} vs ${dj.data.result.length} series)`);
        }
        sizes = { direct: d.bytes, router: r.bytes };
        for (let i = 0; i < TIME_RUNS; i++) {
          times.direct.push((await get(directUrl)).ms);
          times.nginx.push((await get(nginxUrl)).ms);
          times.router.push((await get(router.url + routerPath)).ms);
        }
        warmPeak = procStatusBytes(router.proc.pid, 'VmHWM');
      } finally {
        await router.stop();
      }
      const [dms, nms, rms] = [median(times.direct), median(times.nginx), median(times.router)];
      timeRows.push([`${step} s`, mb(sizes.direct), mb(sizes.router), dms.toFixed(0), nms.toFixed(0), ratio(nms, dms), rms.toFixed(0), ratio(rms, dms),
        `${(sizes.router / 1e6 / (rms / 1000)).toFixed(0)} MB/s`]);

      // --- memory, fresh routers ---
      // Each: start, one small query on the same path (loads and compiles the code it runs), RSS; then
      // the peak is reset (clear_refs 5) and the large query sent: the peak during it, less the RSS
      // before it, is what the answer itself cost. The process's peak is the larger of both peaks.
      const warmupPath = `/api/v1/query_range?${params(`demo_num_cpus{cluster="${SHARD}"}`)}`;
      for (const nodeFlags of [[], SMALL_YOUNG_GENERATION]) {
        const before: number[] = [];
        const peaks: number[] = [];
        const growth: number[] = [];
        for (let i = 0; i < FRESH_ROUTERS; i++) {
          const fresh = await startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-mem', nodeFlags);
          try {
            await get(fresh.url + warmupPath);
            await sleep(200); // let start-up allocations settle
            const startPeak = procStatusBytes(fresh.proc.pid, 'VmHWM');
            const rss = procStatusBytes(fresh.proc.pid, 'VmRSS');
            writeFileSync(`/proc/${fresh.proc.pid}/clear_refs`, '5');
            await get(fresh.url + routerPath);
            const peak = procStatusBytes(fresh.proc.pid, 'VmHWM');
            before.push(rss);
            peaks.push(Math.max(startPeak, peak));
            growth.push(peak - rss);
          } finally {
            await fresh.stop();
          }
        }
        const [beforeMed, peakMed, growthMed] = [median(before), median(peaks), median(growth)];
        const flags = nodeFlags.length === 0 ? '(defaults)' : `\`${nodeFlags.join(' ')}\``;
        memRows.push([`${step} s`, flags, mb(sizes.router), mb(beforeMed), mb(peakMed), ratio(peakMed, sizes.router), mb(growthMed),
          ratio(growthMed, sizes.router), nodeFlags.length === 0 ? mb(warmPeak) : '']);
        if (sizes.router >= 20e6) {
          memoryVerdicts.push(`with ${flags} ${ratio(peakMed, sizes.router)} (${peakMed / sizes.router < MEMORY_TARGET ? 'met' : 'missed'}; `
            + `growth during the request ${ratio(growthMed, sizes.router)})`);
        }
      }

      // --- a client that stops reading: the router must not take the collector's whole answer in ---
      if (sizes.router >= 20e6) {
        const stalled: number[] = [];
        const held: number[] = [];
        for (let i = 0; i < FRESH_ROUTERS; i++) {
          const fresh = await startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-stall');
          try {
            await get(fresh.url + warmupPath);
            await sleep(200);
            const rss = procStatusBytes(fresh.proc.pid, 'VmRSS');
            writeFileSync(`/proc/${fresh.proc.pid}/clear_refs`, '5');
            const bytes = await stalledGet(fresh.url + routerPath, STALL_MS, () => held.push(procStatusBytes(fresh.proc.pid, 'VmRSS') - rss));
            if (bytes !== sizes.router) throw new Error(`stalled client read ${bytes} bytes, expected ${sizes.router}`);
            stalled.push(procStatusBytes(fresh.proc.pid, 'VmHWM') - rss);
          } finally {
            await fresh.stop();
          }
        }
        stallRow = [`${step} s`, mb(sizes.router), `${STALL_MS / 1000} s`, mb(median(held)), ratio(median(held), sizes.router), mb(median(stalled)), ratio(median(stalled), sizes.router)];
      }
      if (sizes.router >= 20e6) {
        verdicts.push(`time ${ratio(rms, dms)} of direct (target within ${TIME_TARGET}x: ${rms / dms <= TIME_TARGET ? 'met' : 'missed'}; nginx ${ratio(nms, dms)}); `
          + `peak RSS against the answer's size (target under ${MEMORY_TARGET}x): ${memoryVerdicts.join(', ')}`);
      }
    }
  } finally {
    await nginx.stop();
  }
  md.table(['step', 'answer (direct)', 'answer (router)', 'direct median (ms)', 'nginx median (ms)', 'nginx ratio', 'router median (ms)', 'router ratio', 'router throughput'], timeRows);
  md.table(['step', 'node flags', 'answer (router)', 'RSS before', 'peak RSS (VmHWM)', 'peak / answer', 'growth during the request', 'growth / answer',
    `peak of the warm router (${TIME_RUNS + 1} requests)`], memRows);
  if (stallRow !== null) {
    md.text(`a client that reads the first bytes, then stops reading for ${STALL_MS / 1000} s before reading the rest (fresh router, same warm-up; `
      + 'growth as above): how much of the answer the router holds while its client is slow.');
    md.table(['step', 'answer (router)', 'stall', 'RSS growth at the end of the stall', '/ answer', 'growth during the request', 'growth / answer'], [stallRow]);
  }
  md.text(`target, on the 20+ MB answer: ${verdicts.join('; ') || 'no answer reached 20 MB'}.`);
  return md.toString();
}

// Where a Node process's CPU goes: the self time per function in a V8 `.cpuprofile` (what
// `node --cpu-prof` writes), restricted to a time window, with bundle positions mapped back to the
// sources through the bundle's source map; and profileRouter, a router under `--cpu-prof` serving a
// load, for the parts that take BENCH_PROFILE (dashboards, refresh).
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../test/e2e/harness/corpus.ts';
import { startRouterCli } from './servers.ts';
import { cpuDuring, Markdown, type BenchContext } from './support.ts';

const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ?? path.join(REPO_ROOT, '.tmp', 'profiles');
const PROFILE_TOP = 25;

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
/** The parts of the format read here (Chrome DevTools protocol, Profiler.Profile). Times in µs. */
export interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface SelfTime {
  name: string;
  /** Source position; for code without one (V8 built-ins, native bindings), the program's function that called it most. */
  where: string;
  ms: number;
  share: number;
}

/** V8's pseudo-frames: the time no JavaScript ran. */
const IDLE = '(idle)';
/** Where Node's event loop calls into JavaScript: naming these as callers says nothing. */
const DISPATCHERS = /^node:internal\/(process\/task_queues|timers)$/;

/**
 * Self time per function (summed over every call path) of the samples taken in [fromUs, toUs] of
 * the profile's clock, which is the monotonic clock `process.hrtime` reads. A sample's time runs to
 * the next one. Shares are of the busy time (everything but `(idle)`).
 */
export function selfTimes(profile: CpuProfile, fromUs = -Infinity, toUs = Infinity): { busyMs: number; idleMs: number; functions: SelfTime[] } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((child) => [child, n.id] as const)));
  const sourceMaps = new Map<string, SourceMap | null>();
  const byFunction = new Map<string, { name: string; where: string; us: number; callers: Map<string, number> }>();
  let idleUs = 0;
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const next = i + 1 < profile.samples.length ? t + profile.timeDeltas[i + 1]! : profile.endTime;
    if (t < fromUs || t > toUs) continue;
    const frame = nodes.get(profile.samples[i]!)!.callFrame;
    const us = Math.max(0, next - t);
    if (frame.functionName === IDLE) {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = position(frame, sourceMaps);
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    let entry = byFunction.get(key);
    if (entry === undefined) byFunction.set(key, (entry = { name, where, us: 0, callers: new Map() }));
    entry.us += us;
    if (where === '' && !name.startsWith('(')) {
      // A built-in: which function of the program called it, through Node's own layers; if none did
      // (Node's own work), the outermost of Node's functions below its event loop's dispatchers.
      let callerFrame: CallFrame | null = null;
      for (let id = parents.get(profile.samples[i]!); id !== undefined; id = parents.get(id)) {
        const f = nodes.get(id)!.callFrame;
        if (f.url === '' || DISPATCHERS.test(f.url)) continue;
        callerFrame = f;
        if (f.url.startsWith('file:')) break;
      }
      const via = callerFrame === null ? '' : `from \`${callerFrame.functionName || '(anonymous)'}\` ${position(callerFrame, sourceMaps)}`;
      entry.callers.set(via, (entry.callers.get(via) ?? 0) + us);
    }
  }
  const functions = [...byFunction.values()].sort((a, b) => b.us - a.us).map(({ name, where, us, callers }) => {
    const [mainCaller, callerUs] = [...callers].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    return {
      name, ms: us / 1000, share: us / busyUs,
      where: mainCaller === '' ? where : `${mainCaller}${callers.size > 1 ? ` (${((100 * callerUs) / us).toFixed(0)}% of it)` : ''}`,
    };
  });
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, functions };
}

/** `lib/engine/labels.ts:42` for bundled code with a source map, `node:internal/...:12` otherwise. */
function position(frame: CallFrame, sourceMaps: Map<string, SourceMap | null>): string {
  if (frame.url === '') return '';
  const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  if (!sourceMaps.has(file)) {
    let map: SourceMap | null = null;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch { /* no source map: Node's own code, or an unmapped bundle */ }
    sourceMaps.set(file, map);
  }
  const map = sourceMaps.get(file);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry) {
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource);
    return `${path.relative(REPO_ROOT, source)}:${entry.originalLine + 1}`;
  }
  return `${file.startsWith('/') ? path.relative(REPO_ROOT, file) : file}:${frame.lineNumber + 1}`;
}

export interface ProfiledLoad {
  /** What was profiled, for the file name and the report's first line. */
  readonly title: string;
  readonly serveArgs: readonly string[];
  /** Run before the profiled window (JIT, connections, a cache filled). */
  readonly warmUp: (url: string) => Promise<unknown>;
  readonly measured: (url: string) => Promise<unknown>;
}

/**
 * A router under `node --cpu-prof` serving `load`: its top self-time functions during the measured
 * part only (start-up and warm-up left out), as Markdown lines; the profile is kept under
 * BENCH_PROFILE_DIR.
 */
export async function profileRouter(ctx: BenchContext, load: ProfiledLoad): Promise<string[]> {
  await mkdir(PROFILE_DIR, { recursive: true });
  const file = path.join(PROFILE_DIR, `router-${load.title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  const router = await startRouterCli(ctx.shardMapFile, ctx.workDir, 'router-profile',
    ['--cpu-prof', `--cpu-prof-dir=${path.dirname(file)}`, `--cpu-prof-name=${path.basename(file)}`], load.serveArgs);
  // The profile's timestamps are on the monotonic clock that process.hrtime reads in this process too.
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let window: { fromUs: number; toUs: number; cpuMs: number };
  try {
    await load.warmUp(router.url);
    const fromUs = nowUs();
    const { cpuMs: [cpuMs] } = await cpuDuring([router.proc.pid], () => load.measured(router.url));
    window = { fromUs, toUs: nowUs(), cpuMs: cpuMs! };
  } finally {
    await router.stop(); // SIGTERM: `serve` exits normally, and Node writes the profile on exit
  }
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const { busyMs, idleMs, functions } = selfTimes(profile, window.fromUs, window.toUs);
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  const md = new Markdown();
  md.text(`profile (${load.title}): \`node --cpu-prof\` of a router (\`serve ${load.serveArgs.join(' ')}\`), `
    + `${seconds((window.toUs - window.fromUs) / 1000)} s, router CPU ${seconds(window.cpuMs)} s from /proc, written to \`${path.relative(REPO_ROOT, file)}\`. `
    + `Samples of the measured loads only: ${seconds(busyMs)} s not idle, ${seconds(idleMs)} s idle (sampled time counts time the process waited for a core `
    + 'on a busy machine, so the shares say more than the times; "CPU" = share × the CPU from /proc). Self time per function, positions mapped '
    + `through the bundle's source map; top ${PROFILE_TOP}:`);
  md.table(['function', 'where', 'share of samples', 'CPU (ms)'],
    functions.slice(0, PROFILE_TOP).map((f) => [`\`${f.name}\``, f.where, `${(f.share * 100).toFixed(1)}%`, (f.share * window.cpuMs).toFixed(0)]));
  return md.lines;
}

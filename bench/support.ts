// Shared pieces of the benchmarks: readiness, process statistics from /proc, timing statistics and
// Markdown tables. Starting and stopping processes is test/e2e/harness/processes.ts's job.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { createGunzip } from 'node:zlib';
import { sleep, type Proc } from '../test/e2e/harness/processes.ts';

/** Polls `url` until it answers 200. */
export async function waitReady(url: string, proc: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) throw new Error(`process exited before ${url} answered:\n${proc.log()}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${proc.log()}`);
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Clock ticks per second, the unit of the CPU times in /proc/<pid>/stat. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat, in clock ticks). */
export function cpuMs(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** A process's CPU so far, ms: in user space and in the kernel on its behalf (system calls, and on loopback the delivery to the peer). */
function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime: fields 14 and 15 of stat(5)
  return { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS };
}

/** The CPU each of `pids` uses while `work` runs, in ms (and the kernel's part of it), and its wall time. */
export async function cpuDuring<T>(pids: readonly number[], work: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number[]; systemMs: number[] }> {
  const before = pids.map(cpuTimes);
  const t0 = performance.now();
  const result = await work();
  const wallMs = performance.now() - t0;
  const after = pids.map(cpuTimes);
  return {
    result,
    wallMs,
    cpuMs: after.map((a, i) => a.user + a.system - before[i]!.user - before[i]!.system),
    systemMs: after.map((a, i) => a.system - before[i]!.system),
  };
}

/**
 * The 1-minute load average (/proc/loadavg) sampled during a part: how busy the shared machine was.
 * It counts the benchmark's own processes too (a client, a router and a server at work: about 2).
 */
export class LoadSampler {
  private readonly samples: number[] = [];
  sample(): void {
    this.samples.push(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]));
  }
  summary(): string {
    if (this.samples.length === 0) return 'load average not sampled';
    const [low, high] = [Math.min(...this.samples), Math.max(...this.samples)];
    return `load average (1 min, /proc/loadavg) ${low.toFixed(2)} to ${high.toFixed(2)} over ${this.samples.length} samples`;
  }
}

/**
 * The processes listening on loopback URLs' ports, by the same names: each listening socket's inode
 * from /proc/net/tcp, then the process holding that socket open (for the servers the e2e harness
 * starts, which only tell their URLs).
 */
export function listenerPids(servers: Readonly<Record<string, string>>): Record<string, number> {
  const nameOfPort = new Map(Object.entries(servers).map(([name, url]) => [Number(new URL(url).port), name]));
  const nameOfSocket = new Map<string, string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch { continue; /* no IPv6 */ }
    // sl local_address rem_address st ... inode: local_address is HEXIP:HEXPORT, st 0A is LISTEN
    for (const fields of text.split('\n').slice(1).map((line) => line.trim().split(/\s+/))) {
      const name = nameOfPort.get(Number.parseInt(fields[1]?.split(':')[1] ?? '', 16));
      if (fields[3] === '0A' && name !== undefined) nameOfSocket.set(`socket:[${fields[9]}]`, name);
    }
  }
  const pids: Record<string, number> = {};
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch { continue; /* gone, or not ours to read */ }
    for (const fd of fds) {
      try {
        const name = nameOfSocket.get(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (name !== undefined) pids[name] = Number(pid);
      } catch { /* closed meanwhile */ }
    }
  }
  const missing = Object.keys(servers).filter((name) => pids[name] === undefined);
  if (missing.length > 0) throw new Error(`no process found listening for ${missing.map((n) => `${n} (${servers[n]})`).join(', ')}`);
  return pids;
}

/** Direct children of a process (nginx's workers). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** An HTTP request to send with node:http (whose client costs less CPU than fetch's). */
export interface HttpCall {
  readonly method: 'GET' | 'POST';
  /** Path and query string. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * One exchange, the whole answer read: its status, size as it travelled and first bytes (for error
 * messages). A gzipped answer is decompressed as it arrives, as Grafana's HTTP client does.
 */
export function exchange(agent: http.Agent, base: string, call: HttpCall): Promise<{ status: number; bytes: number; head: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const headers = call.body === undefined ? call.headers : { ...call.headers, 'content-length': String(Buffer.byteLength(call.body)) };
    const request = http.request({ hostname, port, path: call.path, method: call.method, headers, agent }, (response) => {
      let bytes = 0;
      let head = '';
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      const plain = response.headers['content-encoding'] === 'gzip' ? response.pipe(createGunzip()) : response;
      plain.on('data', (chunk: Buffer) => {
        if (head.length < 300) head += chunk.toString('utf8', 0, 300);
      });
      plain.on('end', () => resolve({ status: response.statusCode!, bytes, head: head.slice(0, 300) }));
      plain.on('error', reject);
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(call.body);
  });
}

// --- statistics and output ---------------------------------------------------------------------------

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}x`;
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Collects one benchmark's Markdown. */
export class Markdown {
  readonly lines: string[] = [];
  text(...paragraph: string[]): this {
    if (this.lines.length > 0) this.lines.push('');
    this.lines.push(...paragraph);
    return this;
  }
  table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): this {
    if (this.lines.length > 0) this.lines.push('');
    this.lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
    // A `|` inside a cell (a regex in a query) would end the cell.
    for (const row of rows) this.lines.push(`| ${row.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`);
    return this;
  }
  toString(): string {
    return this.lines.join('\n');
  }
}

// --- what every benchmark gets -----------------------------------------------------------------------

export interface BenchContext {
  /** Shard name → collector URL (real Prometheus servers on loopback, generated data). */
  readonly shards: Readonly<Record<string, string>>;
  /** The global Prometheus: every shard's data with the shard label (the oracle of the tests). */
  readonly globalUrl: string;
  /** Process ids of those servers: `global` and each shard's name. */
  readonly pids: Readonly<Record<string, number>>;
  /** A shard map file for the router naming those collectors. */
  readonly shardMapFile: string;
  /** This run's scratch directory (logs, configs), removed at the end. */
  readonly workDir: string;
}

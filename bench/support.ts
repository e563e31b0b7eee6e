// Shared pieces of the benchmarks: child processes that never outlive the run, free ports, timing
// statistics and Markdown tables.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

// --- child processes ---------------------------------------------------------------------------------

const live = new Set<ChildProcess>();

// Last resort when the run ends without stopping something (an exception, ^C): kill every process group
// we started. Must be synchronous. If this process is killed outright, the wrapper below notices its
// stdin closing and takes the child down.
process.on('exit', () => {
  for (const child of live) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch { /* already gone */ }
  }
});

/**
 * Runs `"$@"` in its own process group with stdout and stderr appended to $BENCH_LOG, prints the child's
 * pid, and kills the child when our end of its stdin closes (stop(), or this process dying for any
 * reason). Background jobs of a non-interactive sh get /dev/null as stdin, hence the copy to fd 3.
 */
const WRAPPER = 'exec 3<&0; "$@" 3<&- >>"$BENCH_LOG" 2>&1 </dev/null & child=$!; echo "$child"; '
  + '(cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null) & wait "$child"';

export interface Proc {
  /** The pid of the command itself (not of its wrapper): for /proc/<pid>/status. */
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code once the command has ended. */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  log(): string;
  /** SIGTERM, then SIGKILL to the whole group after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
}

export async function startProcess(cmd: string, args: readonly string[], options: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Proc> {
  closeSync(openSync(options.logFile, 'a'));
  const child = spawn('sh', ['-c', WRAPPER, 'sh', cmd, ...args], {
    detached: true,
    cwd: options.cwd,
    env: { ...(options.env ?? process.env), BENCH_LOG: options.logFile },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  live.add(child);
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    done = true;
    live.delete(child);
    resolve(code);
  }));
  child.on('error', () => { /* reported as an exit */ });
  child.stdin!.on('error', () => { /* EPIPE when the wrapper is already gone */ });
  const pid = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(Number(line)));
    void exited.then((code) => reject(new Error(`${cmd} exited with ${code} before starting: ${tail(options.logFile)}`)));
  });
  const stop = async () => {
    if (done) return;
    child.stdin!.end();
    const timer = setTimeout(() => {
      try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  return { pid, logFile: options.logFile, exited, hasExited: () => done, log: () => tail(options.logFile), stop };
}

function tail(file: string, chars = 2000): string {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}

/** The same for a command run to completion: its output stays on the pipes, its exit code is sh's. */
const RUN_WRAPPER = 'exec 3<&0; "$@" 3<&- </dev/null & child=$!; (cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null) >/dev/null 2>&1 & wait "$child"';

/** Runs a command to completion (it dies with the run), collecting its output. */
export function runCommand(cmd: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', RUN_WRAPPER, 'sh', cmd, ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => { /* EPIPE when the wrapper is already gone */ });
    child.once('exit', () => child.stdin.end()); // lets the watcher end
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      live.delete(child);
      reject(err);
    });
    child.on('close', (code) => {
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM). */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat; 100 ticks per second). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime: fields 14 and 15 of stat(5)
}

/** Direct children of a process (nginx's workers). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
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
    for (const row of rows) this.lines.push(`| ${row.join(' | ')} |`);
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
  /** A shard map file for the router naming those collectors. */
  readonly shardMapFile: string;
  /** This run's scratch directory (logs, configs), removed at the end. */
  readonly workDir: string;
}

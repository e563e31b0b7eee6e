// Shared pieces of the benchmarks: readiness, process statistics from /proc, timing statistics and
// Markdown tables. Starting and stopping processes is test/e2e/harness/processes.ts's job.
import { readFileSync } from 'node:fs';
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

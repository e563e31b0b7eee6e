// Child processes for the end-to-end tests and the benchmarks (Prometheus, nginx, routers, wrk) that
// never outlive the run, and free loopback ports for them.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

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
 * Runs `"$@"` in its own process group with stdout and stderr appended to $PROC_LOG, prints the child's
 * pid, and kills the child when our end of its stdin closes (stop(), or this process dying for any
 * reason). Background jobs of a non-interactive sh get /dev/null as stdin, hence the copy to fd 3.
 */
const WRAPPER = 'exec 3<&0; "$@" 3<&- >>"$PROC_LOG" 2>&1 </dev/null & child=$!; echo "$child"; '
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
    env: { ...(options.env ?? process.env), PROC_LOG: options.logFile },
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loopback port nothing listens on right now (it may be taken before it is used: retry then). */
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

// Running the deployment CLIs offline from the tests, and reading what they produce.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, sleep, startProcess } from '../e2e/harness/processes.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');

const temporary: string[] = [];

async function temporaryDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** Removes the directories made so far (symlinks in them are removed, never followed). */
export async function removeTemporaryDirs(): Promise<void> {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Processes the CLI left running outside its process group (detached daemons), killed: their command lines. */
  readonly strays: readonly string[];
}

/**
 * Runs a Node script (a CLI in node_modules, as a path from the repository's root) with an environment
 * of its own: no variable of the caller's (no AWS profile or Alibaba access key of a developer's machine
 * is ever picked up), a throwaway HOME, and `extra`. The CLI runs in a process group of its own with its output going to
 * files, not pipes (a CLI whose reader is gone cannot loop on EPIPE); the whole group is killed when it
 * runs past `timeoutMs`, when it ends (whatever it left in the group) and if this process exits first.
 * Anything it started outside the group (a detached daemon, which carries the throwaway HOME) is killed
 * too and listed in `strays`.
 */
export async function runNodeCli(script: string, args: readonly string[], extra: Record<string, string>, cwd = repoRoot, timeoutMs = 120_000): Promise<Run> {
  const [home, outputDir] = await Promise.all([temporaryDir('prome-route-deploy-home-'), temporaryDir('prome-route-deploy-output-')]);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', ...extra };
  const [stdoutFile, stderrFile] = [join(outputDir, 'stdout'), join(outputDir, 'stderr')];
  const [stdoutFd, stderrFd] = [openSync(stdoutFile, 'w'), openSync(stderrFile, 'w')];
  const started = performance.now();
  const child = spawn(process.execPath, [resolve(repoRoot, script), ...args], { cwd, env, detached: true, stdio: ['ignore', stdoutFd, stderrFd] });
  closeSync(stdoutFd);
  closeSync(stderrFd);
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* the group is gone */ }
  };
  process.on('exit', killGroup);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const code = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(1));
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  const ms = performance.now() - started;
  clearTimeout(timer);
  killGroup();
  process.off('exit', killGroup);
  const [stdout, stderr] = await Promise.all([readFile(stdoutFile, 'utf8'), readFile(stderrFile, 'utf8')]);
  return { code, stdout, stderr: timedOut ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr, ms, strays: killStrays(home, child.pid!) };
}

/**
 * Kills every process outside process group `group` whose environment has HOME=`home` (a throwaway HOME
 * names the one run that started them), returning their command lines. The group was killed already
 * (SIGKILL takes effect when a process is next scheduled, so its members may still be listed here).
 * Processes of other users cannot be read, and are not ours.
 */
function killStrays(home: string, group: number): string[] {
  const marker = Buffer.from(`\0HOME=${home}\0`);
  const strays: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === group) continue;
      if (!Buffer.concat([Buffer.from('\0'), readFileSync(`/proc/${pid}/environ`)]).includes(marker)) continue;
      strays.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
      process.kill(pid, 'SIGKILL');
    } catch { /* gone, or not ours to read */ }
  }
  return strays;
}

/**
 * A view of the repository in a temporary directory: a symlink to each top-level entry (so osls's
 * package patterns see the real tree, node_modules included) except .serverless/, which osls writes
 * its artifacts into even with --package: runs in parallel, or beside a developer's own, would share it.
 * serverless.yml is copied: osls does not take a symlink for its configuration file.
 */
async function serviceView(): Promise<string> {
  const dir = await temporaryDir('prome-route-service-');
  for (const entry of await readdir(repoRoot)) {
    if (entry === 'serverless.yml') await copyFile(join(repoRoot, entry), join(dir, entry));
    else if (entry !== '.serverless' && entry !== '.git') await symlink(join(repoRoot, entry), join(dir, entry));
  }
  return dir;
}

/**
 * Serverless Devs' `s`. Unless NODE_ENV is `test` it starts detached background processes on every run
 * (usage reports, update checks: its lib/daemon/*.js), which outlive it; NODE_ENV=test is the one switch
 * that skips them all. `analysis: disable` in its set-config.yml stops only the reports (tried: the
 * update check still starts).
 */
export function serverlessDevs(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return runNodeCli('node_modules/@serverless-devs/s/bin/s', args, { ...env, NODE_ENV: 'test' });
}

/** osls without its telemetry and its notifications (which ask a server for news). */
const OSLS_QUIET = { SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' };

/** `osls package` of the repository's serverless.yml, its artifacts in the directory returned. */
export async function oslsPackage(args: readonly string[]): Promise<Run & { readonly dir: string }> {
  const [service, dir] = await Promise.all([serviceView(), temporaryDir('prome-route-osls-')]);
  const run = await runNodeCli('node_modules/osls/bin/serverless.js', ['package', ...args, '--package', dir], {
    // Never used by `package` (it makes no AWS call for this service), set so that nothing looks further.
    AWS_ACCESS_KEY_ID: 'dummy',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...OSLS_QUIET,
  }, service);
  return { ...run, dir };
}

/** The names of the entries of a zip archive, from its central directory. */
export function zipEntryNames(zip: Buffer): string[] {
  // End of central directory record: signature 0x06054b50, at most 64 KiB of comment after it.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry at ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A CloudFormation value with the pseudo parameters, `Fn::Sub`, `Fn::Join`, `Fn::Split` and `Ref`s to
 * pseudo parameters resolved, as CloudFormation would for `pseudo`; other intrinsics stay as they are.
 */
export function resolveIntrinsics(value: Json, pseudo: Readonly<Record<string, string>>): Json {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, pseudo));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = resolveIntrinsics(value[key] as Json, pseudo);
    if (key === 'Ref' && typeof arg === 'string' && arg in pseudo) return pseudo[arg] as string;
    if (key === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^}]+)\}/g, (whole, name: string) => pseudo[name] ?? whole);
    }
    if (key === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string' && Array.isArray(arg[1]) && arg[1].every((p) => typeof p === 'string')) {
      return (arg[1] as string[]).join(arg[0]);
    }
    if (key === 'Fn::Split' && Array.isArray(arg) && typeof arg[0] === 'string' && typeof arg[1] === 'string') {
      return arg[1].split(arg[0]);
    }
    return { [key]: arg };
  }
  return Object.fromEntries(keys.map((key) => [key, resolveIntrinsics(value[key] as Json, pseudo)]));
}

/** Evaluates a CloudFormation condition made of Fn::Equals, Fn::Not, Fn::And, Fn::Or on literal values. */
export function evaluateCondition(condition: Json, conditions: Readonly<Record<string, Json>>): boolean {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) throw new Error(`not a condition: ${JSON.stringify(condition)}`);
  const [[fn, arg]] = Object.entries(condition) as [[string, Json]];
  const args = Array.isArray(arg) ? arg : [arg];
  switch (fn) {
    case 'Fn::Equals':
      return JSON.stringify(args[0]) === JSON.stringify(args[1]);
    case 'Fn::Not':
      return !evaluateCondition(args[0] as Json, conditions);
    case 'Fn::And':
      return args.every((c) => evaluateCondition(c, conditions));
    case 'Fn::Or':
      return args.some((c) => evaluateCondition(c, conditions));
    case 'Condition':
      return evaluateCondition(conditions[arg as string] as Json, conditions);
    default:
      throw new Error(`cannot evaluate ${fn}`);
  }
}

export type { Json };

export interface OfflineGateway {
  /** The emulated HTTP API's base URL. */
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * `osls offline start` of the repository's serverless.yml (serverless-offline: API Gateway HTTP API
 * emulated, the function run from dist/ as Lambda would), with `extra` as the environment the function
 * sees besides its own, on free loopback ports. Resolves once the gateway listens. It runs as the
 * end-to-end harness runs its servers: a process group of its own, output to a log file, stopped with
 * its group, and with this process if that ends first.
 */
export async function startOslsOffline(args: readonly string[], extra: Record<string, string>): Promise<OfflineGateway> {
  const [service, home] = await Promise.all([serviceView(), temporaryDir('prome-route-offline-home-')]);
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const proc = await startProcess(process.execPath, [join(repoRoot, 'node_modules/osls/bin/serverless.js'), 'offline', 'start', ...args,
    '--host', '127.0.0.1', '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort), '--noTimeout'], {
    cwd: service,
    logFile: join(home, 'offline.log'),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', ...OSLS_QUIET, ...extra },
  });
  const stop = async () => {
    await proc.stop();
    killStrays(home, proc.pid);
  };
  while (!readFileSync(proc.logFile, 'utf8').includes('Server ready')) {
    if (proc.hasExited()) throw new Error(`osls offline exited with ${await proc.exited}:\n${proc.log()}`);
    await sleep(100);
  }
  return { url: `http://127.0.0.1:${httpPort}`, output: () => proc.log(), stop };
}

// A real Redis for the results cache's tests and benchmarks: Debian's redis-server (installed by
// scripts/setup.sh) on a free loopback port, without persistence, in a directory of its own, stopped
// with the run like the Prometheus servers.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { freePort, sleep, startProcess, type Proc } from './processes.ts';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly proc: Proc;
  /** Runs one command on the server (CONFIG SET, FLUSHALL, DEBUG SLEEP...) and returns its reply. */
  command(...args: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** `maxmemory` in bytes, evicting least recently used keys past it (0: no bound). */
  readonly maxMemoryBytes?: number;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-redis-'));
  const port = await freePort();
  const proc = await startProcess(REDIS_SERVER, [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no',
    '--maxmemory', String(options.maxMemoryBytes ?? 0), '--maxmemory-policy', 'allkeys-lru',
    // DEBUG SLEEP makes a hung server in the fault tests.
    '--enable-debug-command', 'local',
  ], { logFile: path.join(dir, 'redis.log') });
  const url = `redis://127.0.0.1:${port}/0`;
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => { /* reported by the failing command */ });
  for (let attempt = 0; ; attempt++) {
    try {
      await client.connect();
      break;
    } catch (err) {
      if (proc.hasExited() || attempt > 100) throw new Error(`redis-server did not start: ${(err as Error).message}\n${proc.log()}`);
      await sleep(50);
    }
  }
  const stop = async () => {
    if (client.isOpen) client.destroy();
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { url, port, proc, command: (...args) => client.sendCommand(args), stop };
}

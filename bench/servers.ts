// The servers the benchmarks put in front of the collectors: `prome-route serve` (the real CLI, as a
// child process), a plain nginx reverse proxy and the least possible Node proxy.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../test/e2e/harness/corpus.ts';
import { freePort, startProcess, type Proc } from '../test/e2e/harness/processes.ts';
import { waitReady } from './support.ts';

export interface Server {
  readonly url: string;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/**
 * Starts a server on a free loopback port and waits until `/-/healthy` answers; a port taken between
 * choosing and binding it (`inUse` in the log) gets another try on a fresh port.
 */
async function startListening(inUse: RegExp, start: (port: number) => Promise<Proc>): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = await start(port);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(`${url}/-/healthy`, proc);
      return { url, proc, stop: () => proc.stop() };
    } catch (err) {
      await proc.stop();
      if (attempt >= 3 || !inUse.test(proc.log())) throw err;
    }
  }
}

/**
 * `node [NODE_FLAGS] dist/cli.mjs serve --shards FILE --listen 127.0.0.1:PORT`, its request log going
 * to a file in `workDir` (as it would to a log collector; a pipe read by this process would tie the
 * two together); without the results cache unless `serveArgs` say otherwise: the other parts measure
 * the router computing answers, and repeat the same queries.
 */
export function startRouterCli(shardMapFile: string, workDir: string, name = 'router', nodeFlags: readonly string[] = [], serveArgs: readonly string[] = ['--cache', 'off']): Promise<Server> {
  return startListening(/address already in use/, (port) => startProcess(
    process.execPath, [...nodeFlags, 'dist/cli.mjs', 'serve', '--shards', shardMapFile, '--listen', `127.0.0.1:${port}`, ...serveArgs],
    { cwd: REPO_ROOT, logFile: path.join(workDir, `${name}-${port}.log`) },
  ));
}

/**
 * A floor for the router, forwarding to `upstream`: bench/node-floor.mjs (the least a Node proxy can
 * do, forwarding everything) or bench/replay-floor.mjs (each request answered as `upstream` answered
 * it the first time).
 */
export function startFloor(script: 'node-floor' | 'replay-floor', upstream: string, workDir: string): Promise<Server> {
  return startListening(/EADDRINUSE/, (port) => startProcess(
    process.execPath, [`bench/${script}.mjs`, String(port), upstream],
    { cwd: REPO_ROOT, logFile: path.join(workDir, `${script}-${port}.log`) },
  ));
}

/**
 * bench/handler-runner.mjs: one warm instance of a bundled cloud handler, invoked in its own process
 * with the events in `eventsFile`, with only PATH and SHARD_MAP_FILE in its environment (as in
 * bench/cold-start.ts) and RESULTS_CACHE_URL=off (as serve above); its log lines (the function's stdout) go to a file, as Lambda's go to CloudWatch.
 */
export function startHandlerRunner(bundle: string, eventsFile: string, shardMapFile: string, workDir: string): Promise<Server> {
  return startListening(/EADDRINUSE/, (port) => startProcess(
    process.execPath, ['bench/handler-runner.mjs', String(port), bundle, eventsFile],
    { cwd: REPO_ROOT, logFile: path.join(workDir, `handler-runner-${port}.log`), env: { PATH: process.env.PATH ?? '', SHARD_MAP_FILE: shardMapFile, RESULTS_CACHE_URL: 'off' } },
  ));
}

/**
 * bench/sim-collectors.mjs: `shards` simulated collectors in one process, answering what the real
 * collectors `upstreams` answered (shard i: upstream i mod n), `delayMs` after each request.
 * `url` is its control port; `shardUrls` the shards' base URLs.
 */
export async function startSimCollectors(upstreams: readonly string[], shards: number, delayMs: number, workDir: string): Promise<Server & { shardUrls: string[] }> {
  const server = await startListening(/EADDRINUSE/, (port) => startProcess(
    process.execPath, ['bench/sim-collectors.mjs', String(port), String(shards), String(delayMs), ...upstreams],
    { cwd: REPO_ROOT, logFile: path.join(workDir, `sim-collectors-${port}.log`) },
  ));
  const ports = (await (await fetch(`${server.url}/ports`)).json()) as number[];
  return { ...server, shardUrls: ports.map((p) => `http://127.0.0.1:${p}`) };
}

/**
 * The Node flag an operator can give `serve` when large answers matter more than small ones: a young
 * generation of at most 1 MB is collected more often, so the buffers of an answer streamed through
 * are freed as it goes instead of piling up (bench/large.ts measures both, bench/overhead.ts the CPU).
 */
export const SMALL_YOUNG_GENERATION = ['--max-semi-space-size=1'];

// Debian installs it in /usr/sbin, which a non-root PATH may lack.
export const NGINX = process.env.NGINX_BIN ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

/**
 * nginx as a plain reverse proxy to `upstream` (`http://127.0.0.1:PORT`): one worker (the router is one
 * Node process), keep-alive connections to the upstream, no access log, everything (config, pid, logs,
 * temp files) under its own directory, in the foreground.
 */
export async function startNginx(upstream: string, workDir: string): Promise<Server> {
  const dir = path.join(workDir, 'nginx');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const { host } = new URL(upstream);
  return startListening(/in use/, async (port) => {
    const config = `# written by bench/servers.ts
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream collector {
    server ${host};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://collector;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Large answers pass through memory buffers, never temp files (which nginx's unprivileged
      # worker could not write here anyway): as the router streams them.
      proxy_max_temp_file_size 0;
    }
  }
}
`;
    const configFile = path.join(dir, 'nginx.conf');
    await writeFile(configFile, config);
    return startProcess(NGINX, ['-p', `${dir}/`, '-c', configFile, '-e', `${dir}/error.log`], { logFile: path.join(dir, 'stderr.log') });
  });
}

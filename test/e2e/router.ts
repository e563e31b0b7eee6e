// Starts the router the way users do: the real CLI, `prome-route serve`, as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './harness/corpus.ts';
import type { ApiAnswer } from './compare.ts';

export interface RunningRouter {
  readonly url: string;
  readonly process: ChildProcess;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** `env`: set on top of this process's environment (e.g. ROUTER_AUTH_TOKEN); `args`: more `serve` flags. */
export async function startRouter(
  shardMapFile: string, listen = '127.0.0.1:0', { env = {}, args = [] }: { env?: Record<string, string>; args?: readonly string[] } = {},
): Promise<RunningRouter> {
  const child = spawn(process.execPath, ['dist/cli.mjs', 'serve', '--shards', shardMapFile, '--listen', listen, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'prome-route listening') resolve(`http://${entry.address}`);
      } catch {
        // not a log line of ours
      }
    });
    child.once('exit', (code) => reject(new Error(`router exited with ${code}: ${logs.join('')}`)));
  });
  const kill = () => child.kill('SIGKILL');
  const stop = async () => {
    process.off('exit', kill); // one listener per router: many routers in one file must not pile them up
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  process.once('exit', kill);
  return { url, process: child, logs, stop };
}

/** One API call, GET with the parameters in the URL or POST with a form body, as Grafana sends them. */
export async function callApi(
  base: string, path: string, params: Record<string, string | string[]>, method: 'GET' | 'POST', headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) search.append(k, one);
  const response = method === 'GET'
    ? await fetch(`${base}${path}?${search}`, { headers })
    : await fetch(`${base}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: search });
  const text = await response.text();
  try {
    return { httpStatus: response.status, body: JSON.parse(text) as ApiAnswer['body'] };
  } catch {
    return { httpStatus: response.status, body: { status: 'invalid', error: text.slice(0, 300) } };
  }
}

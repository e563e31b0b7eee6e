// The command line as users run it: the bundled CLI in a child process.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './e2e/harness/corpus.ts';

const run = promisify(execFile);
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runAs({}, ...args);
}

async function runAs(options: { uid?: number }, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli.mjs', ...args], { cwd: REPO_ROOT, ...options });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-cli-'));
  await writeFile(path.join(dir, 'map.json'), JSON.stringify({ shards: { a: 'http://10.0.0.1:9090', b: 'http://10.0.0.2:9090' } }));
  await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ shardLabel: '1x', shards: { a: 'ftp://x' } }));
  await writeFile(path.join(dir, 'upstream.yaml'), 'replace_label_name: region\nprome_servers:\n  eu: "10.0.0.1:9090"\nhttp:\n  listen_addr: ":8080"\n');
});

describe('prome-route explain', () => {
  it('prints the shards and the rewritten query per shard', async () => {
    const { code, stdout } = await cli('explain', '--shards', path.join(dir, 'map.json'), 'sum by (cluster) (rate(http_requests_total{cluster="b", job="api"}[5m]))');
    expect(code).toBe(0);
    expect(stdout).toBe([
      'query:  sum by (cluster) (rate(http_requests_total{cluster="b", job="api"}[5m]))',
      'shards: b',
      // The shard label as collectors know it (a collector's own cluster label is original_cluster).
      'b: sum by (__prome_route_shard__) (rate(http_requests_total{job="api"}[5m]))',
      '   (adds cluster="b" to every series)',
      '',
    ].join('\n'));
  });

  it('reads the upstream proxy config unchanged', async () => {
    const { code, stdout } = await cli('explain', '--shards', path.join(dir, 'upstream.yaml'), 'up{region="eu"}');
    expect(code).toBe(0);
    expect(stdout).toContain('eu: up{}');
  });

  it('reports a parse error with its position', async () => {
    const { code, stderr } = await cli('explain', '--shards', path.join(dir, 'map.json'), 'sum(up');
    expect(code).toBe(2);
    expect(stderr).toBe('prome-route: 1:7: parse error: unclosed left parenthesis\n');
  });
});

describe('errors a user can make', () => {
  it('names a missing shard map file', async () => {
    const { code, stderr } = await cli('serve', '--shards', path.join(dir, 'nope.json'));
    expect(code).toBe(2);
    expect(stderr).toBe(`prome-route: cannot read shard map ${path.join(dir, 'nope.json')}: no such file\n`);
  });

  it('says when the shard map may not be read', async () => {
    const secret = path.join(dir, 'secret.json');
    await writeFile(secret, '{}');
    await chmod(secret, 0o000);
    // Root reads any file, so as root the CLI runs as "nobody" to meet the permission check.
    const options = process.getuid?.() === 0 ? { uid: 65534 } : {};
    await chmod(dir, 0o755);
    const { code, stderr } = await runAs(options, 'explain', '--shards', secret, 'up');
    expect(code).toBe(2);
    expect(stderr).toBe(`prome-route: cannot read shard map ${secret}: permission denied\n`);
  });

  it('lists every problem of an invalid shard map', async () => {
    const { code, stderr } = await cli('serve', '--shards', path.join(dir, 'bad.json'));
    expect(code).toBe(2);
    expect(stderr).toContain('shardLabel: must be a valid label name, got "1x"');
    expect(stderr).toContain('shards.a: must be an absolute http(s) URL');
  });

  it('says when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const { code, stderr } = await cli('serve', '--shards', path.join(dir, 'map.json'), '--listen', `127.0.0.1:${port}`);
    blocker.close();
    expect(code).toBe(1);
    expect(stderr).toBe(`prome-route: cannot listen on 127.0.0.1:${port}: address already in use\n`);
  });

  it('explains usage errors', async () => {
    expect((await cli('serve')).stderr).toContain('--shards FILE is required');
    expect((await cli('frobnicate', '--shards', path.join(dir, 'map.json'))).stderr).toContain('unknown command "frobnicate"');
    expect((await cli('serve', '--shards', path.join(dir, 'map.json'), '--listen', 'nowhere')).stderr).toContain('invalid listen address "nowhere"');
    expect((await cli('explain', '--shards', path.join(dir, 'map.json'))).code).toBe(2);
  });

  it('refuses an invalid listen address as an input error (exit 2)', async () => {
    for (const listen of ['nowhere', '127.0.0.1:70000', '192.0.2.1:9091']) {
      const { code, stderr } = await cli('serve', '--shards', path.join(dir, 'map.json'), '--listen', listen);
      expect(code, listen).toBe(2);
      expect(stderr, listen).toMatch(/^prome-route: (invalid listen address|cannot listen on 192\.0\.2\.1:9091: no such local address)/);
    }
  });

  it('refuses limits that are not positive integers (exit 2)', async () => {
    for (const [option, value] of [['--max-samples', '0'], ['--max-samples', '-5'], ['--max-collector-bytes', '1.5'], ['--max-collector-bytes', 'lots']]) {
      const { code, stderr } = await cli('serve', '--shards', path.join(dir, 'map.json'), option!, value!);
      expect(code, `${option} ${value}`).toBe(2);
      expect(stderr).toContain(`prome-route: ${option} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  });

  it('refuses a timeout that is not positive or longer than Node timers hold (exit 2)', async () => {
    // Node clamps timers above 2^31-1 ms to 1 ms: such a timeout would fail every query at once.
    for (const timeout of ['-1', '0', 'abc', '', '2147484', '1e9', 'Infinity']) {
      const { code, stderr } = await cli('serve', '--shards', path.join(dir, 'map.json'), '--timeout', timeout);
      expect(code, timeout).toBe(2);
      expect(stderr, timeout).toContain(`prome-route: --timeout must be a number of seconds above 0 and at most 2147483, got ${JSON.stringify(timeout)}`);
    }
  });
});

// runNodeCli, which runs the deployment CLIs (osls, Serverless Devs' `s`) in the tests: whatever a CLI
// starts, nothing of it outlives the run, neither when it hangs nor when it leaves a detached process.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../e2e/harness/processes.ts';
import { removeTemporaryDirs, runNodeCli } from './tools.ts';

const scripts = await mkdtemp(join(tmpdir(), 'prome-route-cli-runs-'));

afterAll(async () => {
  await removeTemporaryDirs();
  await rm(scripts, { recursive: true, force: true });
});

/** A script that starts a child (detached: in a session and group of its own, as `s` starts its daemons, or not), writes its pid to `pidFile`, then ends or hangs. */
async function script(name: string, detached: boolean, hang: boolean): Promise<{ file: string; pidFile: string }> {
  const [file, pidFile] = [join(scripts, `${name}.mjs`), join(scripts, `${name}.pid`)];
  await writeFile(file, `
    import { spawn } from 'node:child_process';
    import { writeFileSync } from 'node:fs';
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: ${detached}, stdio: 'ignore' });
    writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
    child.unref();
    console.log('started');
    ${hang ? 'setInterval(() => {}, 1000);' : ''}`);
  return { file, pidFile };
}

/** Whether a process runs (a zombie waiting for its parent does not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILL takes effect when the process is next scheduled: wait for it (the test's own timeout bounds this). */
async function expectGone(pid: number): Promise<void> {
  while (running(pid)) await sleep(20);
  expect(running(pid)).toBe(false);
}

describe('runNodeCli', () => {
  it('kills the CLI and everything in its process group when it runs past its time', async () => {
    const { file, pidFile } = await script('hangs', false, true);
    const run = await runNodeCli(file, [], {}, scripts, 1_000);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('started\n');
    expect(run.stderr).toContain('(killed after 1000 ms)');
    await expectGone(Number(await readFile(pidFile, 'utf8')));
  });

  it('kills what the CLI left in its group when it ends', async () => {
    const { file, pidFile } = await script('leaves-a-child', false, false);
    const run = await runNodeCli(file, [], {}, scripts);
    expect([run.code, run.strays]).toEqual([0, []]);
    await expectGone(Number(await readFile(pidFile, 'utf8')));
  });

  it('finds, kills and lists a detached process the CLI started (as `s` starts its daemons)', async () => {
    const { file, pidFile } = await script('detaches', true, false);
    const run = await runNodeCli(file, [], {}, scripts);
    expect(run.code).toBe(0);
    expect(run.strays).toEqual([`${process.execPath} -e setInterval(() => {}, 1000)`]);
    await expectGone(Number(await readFile(pidFile, 'utf8')));
  });
});

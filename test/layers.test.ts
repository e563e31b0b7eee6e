// Imports run one way: functions (and cli) -> platform -> api -> replicas -> engine -> shard-label -> promql /
// collectors -> shards, with the leaf modules (errors, label-set order, version) open to every layer.
// Every import of every source file is read (TypeScript's own pre-processor: static, type-only,
// re-exports and dynamic import()) and an edge up the layers, or across two layers of one rank, fails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

/** Each layer's rank: a module may import a lower rank, or its own layer. */
const LAYERS: Readonly<Record<string, number>> = {
  'functions': 9,
  'cli': 9,
  'lib/index.ts': 8,
  'lib/platform': 7,
  'lib/api': 6,
  // Merged shards' leaves: reads the replicas (collectors' client) and evaluates with the engine's parts.
  'lib/replicas': 5,
  'lib/engine': 4,
  'lib/cache': 3,
  'lib/shard-label': 3,
  'lib/promql': 2,
  'lib/collectors': 2,
  'lib/shards': 1,
  'lib/errors.ts': 0,
  'lib/labelsets.ts': 0,
  'lib/version.ts': 0,
};

/** The layer a repository path belongs to (the longest matching prefix), or null. */
function layerOf(path: string): string | null {
  let best: string | null = null;
  for (const layer of Object.keys(LAYERS)) {
    if ((path === layer || path.startsWith(`${layer}/`)) && (best === null || layer.length > best.length)) best = layer;
  }
  return best;
}

function allowed(from: string, to: string): boolean {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === null || b === null) return false;
  return a === b || LAYERS[a]! > LAYERS[b]!;
}

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = `${dir}/${entry}`;
    if (statSync(join(ROOT, path)).isDirectory()) yield* sources(path);
    else if (/\.(ts|mts|js|mjs)$/.test(entry) && !entry.endsWith('.d.ts')) yield path;
  }
}

/** The repository paths a source file imports (relative specifiers only: packages are not layers). */
function importsOf(path: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, path), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(path), spec)));
}

const FILES = ['lib', 'functions', 'cli'].flatMap((dir) => [...sources(dir)]);

describe('import direction', () => {
  it('knows which way is up', () => {
    expect(allowed('lib/engine/fetch.ts', 'lib/api/envelope.ts')).toBe(false);
    expect(allowed('lib/promql/plan.ts', 'lib/collectors/client.ts')).toBe(false);
    expect(allowed('lib/api/context.ts', 'lib/engine/remote.ts')).toBe(true);
    expect(allowed('lib/shards/ssm.ts', 'lib/errors.ts')).toBe(true);
    expect(allowed('lib/errors.ts', 'lib/shards/ssm.ts')).toBe(false);
    expect(FILES).toContain('lib/engine/compile.ts');
  });

  it('places every source file in a layer', () => {
    expect(FILES.filter((f) => layerOf(f) === null)).toEqual([]);
  });

  it('has no import up the layers', () => {
    const upward = FILES.flatMap((from) => importsOf(from).filter((to) => !allowed(from, to)).map((to) => `${from} -> ${to}`));
    expect(upward).toEqual([]);
  });
});

// Prometheus v3.14.0's test scripts: read completely (every line belongs to a command or is blank or
// a comment), and turned into per-eval cases (data, query, expected result) for in-process engine
// tests. Lists the constructs the end-to-end runner of the 2.42 scripts does not run.
import { afterAll, describe, expect, it } from 'vitest';
import { constructsOf, END_TO_END_CONSTRUCTS, evalCases, loadScripts, type Construct } from './cases.ts';

const scripts = loadScripts('v3.14.0');
const cases = scripts.flatMap((s) => evalCases(s.file, s.commands));

afterAll(() => {
  const counts = new Map<Construct, number>();
  for (const c of cases) for (const k of constructsOf(c)) counts.set(k, (counts.get(k) ?? 0) + 1);
  const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${String(n).padStart(5)} ${k}${END_TO_END_CONSTRUCTS.has(k) ? '' : ' (not run end to end)'}`);
  const plain = cases.filter((c) => constructsOf(c).every((k) => END_TO_END_CONSTRUCTS.has(k))).length;
  console.log([
    `promqltest v3.14.0: ${scripts.length} files, ${cases.length} evals parsed; ${plain} use only constructs the end-to-end runner runs`,
    '  evals per construct:',
    ...rows,
  ].join('\n'));
});

describe('v3.14.0 scripts', () => {
  it.each(scripts)('$file: every line is part of a command, blank or a comment', ({ text, commands }) => {
    const lines = text.split('\n');
    const covered = new Set<number>();
    for (const cmd of commands) for (let l = cmd.line; l <= cmd.endLine; l++) covered.add(l);
    const stray = lines.map((l, i) => [i + 1, l.trim()] as const).filter(([n, l]) => l !== '' && !l.startsWith('#') && !covered.has(n));
    expect(stray).toEqual([]);
    const evalLines = lines.filter((l) => /^\s*eval/.test(l)).length;
    expect(commands.filter((c) => c.kind === 'eval')).toHaveLength(evalLines);
  });

  it('gives every eval its data in time order, its query and its expected result', () => {
    expect(cases.length).toBeGreaterThan(2000);
    for (const c of cases) {
      for (const s of c.series) expect(s.samples.every((x, i) => i === 0 || s.samples[i - 1]!.t < x.t), `${c.file}:${c.line}`).toBe(true);
      if (c.query.type === 'range') expect(c.query.endMs).toBeGreaterThanOrEqual(c.query.startMs);
    }
    const rate = cases.find((c) => c.file === 'functions.test' && c.expr.startsWith('rate(') && c.series.length > 0);
    expect(rate?.series[0]?.samples.length).toBeGreaterThan(1);
  });
});

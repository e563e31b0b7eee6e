// Real Prometheus as the judge of query validity: promtool 2.42 has no "check query" command, but
// `promtool check rules` parses every rule's expression with Prometheus's own parser (types, argument
// counts, regexes, the non-empty-matcher rule) and lists every rule that fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

export function promtoolAvailable(): boolean {
  try {
    execFileSync(PROMTOOL, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A YAML double-quoted scalar holding exactly `s` (every non-ASCII character escaped). */
function yamlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

const CHUNK = 5000;

/**
 * Checks each query with Prometheus's parser; returns, per query, null if it parses or the error.
 * Queries are recording rules `q<i>` of one file per chunk.
 */
export function promtoolParse(queries: readonly string[]): (string | null)[] {
  const verdicts: (string | null)[] = queries.map(() => null);
  const dir = mkdtempSync(path.join(tmpdir(), 'prome-route-promtool-'));
  try {
    for (let start = 0; start < queries.length; start += CHUNK) {
      const chunk = queries.slice(start, start + CHUNK);
      const file = path.join(dir, `rules-${start}.yml`);
      // A lone surrogate has no UTF-8 form: no client can send such a query.
      const rules = chunk.map((q, i) => {
        if (!/\p{Surrogate}/u.test(q)) return `  - record: q${start + i}\n    expr: ${yamlString(q)}\n`;
        verdicts[start + i] = 'not representable in UTF-8 (lone surrogate)';
        return '';
      }).join('');
      if (rules === '') continue;
      writeFileSync(file, `groups:\n- name: g\n  rules:\n${rules}`);
      const result = spawnSync(PROMTOOL, ['check', 'rules', '--lint=none', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const output = `${result.stdout}\n${result.stderr}`;
      if (result.status === 0) continue;
      // `<file>: 5:11: group "g", rule 1, "q0": could not parse expression: 1:4: parse error: ...`
      const entries = output.split(/\n(?=\S+: \d+:\d+: group ")/);
      let found = 0;
      for (const entry of entries) {
        const m = /group "g", rule \d+, "q(\d+)": ([^]*)$/.exec(entry);
        if (m === null) continue;
        verdicts[Number(m[1])] = m[2]!.trim();
        found++;
      }
      if (found === 0) throw new Error(`promtool failed without naming a rule:\n${output.slice(0, 2000)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return verdicts;
}

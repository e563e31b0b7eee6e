// Queries for the parser's tests: the shared corpora, and every `eval` expression of Prometheus's own
// PromQL test files (v2.42.0 and v3.14.0), with whether the file expects the evaluation to fail.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMPLIANCE_QUERIES_FILE, CORPUS_DIR, loadComplianceQueries, loadDashboardExprs } from '../e2e/harness/corpus.ts';
import { dashboardExprToPromQL, substituteVariables } from '../e2e/harness/variables.ts';

export { COMPLIANCE_QUERIES_FILE };

export interface EvalExpression {
  /** `<file>:<line>` */
  readonly where: string;
  readonly expr: string;
  /** `eval_fail`, or an `expect fail` line follows: the evaluation (not necessarily the parse) fails. */
  readonly expectFail: boolean;
}

/** The expressions of `eval` commands in Prometheus's test files of a release (`v2.42.0`, `v3.14.0`). */
export function evalExpressions(release: 'v2.42.0' | 'v3.14.0'): EvalExpression[] {
  const dir = path.join(CORPUS_DIR, 'promqltest', release);
  const out: EvalExpression[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test')).sort()) {
    const lines = readFileSync(path.join(dir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^\s*eval(_\w+)? (?:instant at \S+|range from \S+ to \S+ step \S+) (.*)$/.exec(line);
      if (m === null) return;
      const expectFail = m[1] === '_fail' || /^\s*expect fail\b/.test(lines[i + 1] ?? '');
      out.push({ where: `${release}/${file}:${i + 1}`, expr: m[2]!, expectFail });
    });
  }
  return out;
}

/** The compliance tester's queries and the dashboards' expressions (Grafana variables substituted). */
export function corpusQueries(): { compliance: string[]; dashboards: string[] } {
  return {
    compliance: loadComplianceQueries().map((q) => q.query),
    dashboards: loadDashboardExprs().map((e) => dashboardExprToPromQL(substituteVariables(e, 'a'))),
  };
}

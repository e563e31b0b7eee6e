// Locations of the repository and of the shared query corpora, and loaders for the corpora.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in <root>/test/e2e/harness). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CORPUS_DIR = path.resolve(REPO_ROOT, '../shared/corpus');
export const DASHBOARD_EXPRS_FILE = path.join(CORPUS_DIR, 'dashboards/exprs.txt');
export const COMPLIANCE_QUERIES_FILE = path.join(CORPUS_DIR, 'promql-compliance/expanded-queries.tsv');

/** The 353 unique dashboard expressions, Grafana variables left in place. */
export function loadDashboardExprs(): string[] {
  return readFileSync(DASHBOARD_EXPRS_FILE, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

export interface ComplianceQuery {
  index: number;
  query: string;
  /** The reference Prometheus is expected to return an error. */
  shouldFail: boolean;
}

/** The 539 expanded compliance-tester queries (from the .tsv, which carries `should_fail`). */
export function loadComplianceQueries(): ComplianceQuery[] {
  const [header, ...rows] = readFileSync(COMPLIANCE_QUERIES_FILE, 'utf8').split('\n').filter((l) => l !== '');
  const cols = header!.split('\t');
  const at = (name: string) => cols.indexOf(name);
  return rows.map((row) => {
    const f = row.split('\t');
    // The query is the last column and may itself contain tabs in theory; re-join the tail.
    return {
      index: Number(f[at('index')]),
      shouldFail: f[at('should_fail')] === '1',
      query: f.slice(at('query')).join('\t'),
    };
  });
}

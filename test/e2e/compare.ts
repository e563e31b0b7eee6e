// Compares a router answer with the global oracle's. Series order is compared as Prometheus defines
// it: as a set for matrices and unsorted vectors (Grafana sorts itself), in order after sort().
//
// Sample values must agree to 1e-9 relative, not bit for bit: Prometheus sums floats in the order it
// meets series, which for grouped aggregations is Go's randomised map order, so the oracle itself
// differs from one run to the next in the last bits (`avg(sum by (instance, cpu) (...))`). The
// PromQL compliance tester allows 1e-5; this is four orders of magnitude stricter.
import { compareLabelSets, sortedLabels, type LabelSet } from '../../lib/labelsets.ts';

export interface ApiAnswer {
  httpStatus: number;
  body: {
    status: string;
    errorType?: string;
    error?: string;
    data?: { resultType: string; result: unknown } | unknown;
    warnings?: string[];
  };
}

interface Series { metric: LabelSet; value?: unknown; values?: unknown[]; histogram?: unknown; histograms?: unknown[] }

/** Returns null when the answers agree, else a short description of the first difference. */
export function diffAnswers(router: ApiAnswer, oracle: ApiAnswer, ordered: boolean): string | null {
  if (router.body.status !== oracle.body.status) {
    return `status ${router.body.status} (${router.body.error ?? ''}) vs oracle ${oracle.body.status} (${oracle.body.error ?? ''})`;
  }
  if (oracle.body.status === 'error') {
    if (router.body.errorType !== oracle.body.errorType) return `errorType ${router.body.errorType} vs oracle ${oracle.body.errorType}`;
    if (router.httpStatus !== oracle.httpStatus) return `HTTP ${router.httpStatus} vs oracle ${oracle.httpStatus}`;
    return null;
  }
  const r = router.body.data as { resultType: string; result: unknown };
  const o = oracle.body.data as { resultType: string; result: unknown };
  if (r.resultType !== o.resultType) return `resultType ${r.resultType} vs oracle ${o.resultType}`;
  if (r.resultType === 'scalar' || r.resultType === 'string') {
    return JSON.stringify(r.result) === JSON.stringify(o.result) ? null : `${JSON.stringify(r.result)} vs oracle ${JSON.stringify(o.result)}`;
  }
  const rs = normalise(r.result as Series[], ordered);
  const os = normalise(o.result as Series[], ordered);
  if (rs.length !== os.length) return `${rs.length} series vs oracle ${os.length}: ${describe(rs, os)}`;
  for (let i = 0; i < rs.length; i++) {
    const a = rs[i]!;
    const b = os[i]!;
    const same = JSON.stringify(a.metric) === JSON.stringify(b.metric) && samePoints(pointsOf(a), pointsOf(b));
    if (!same) return `series ${i}: ${JSON.stringify(a).slice(0, 300)} vs oracle ${JSON.stringify(b).slice(0, 300)}`;
  }
  return null;
}

const RELATIVE_TOLERANCE = 1e-9;

function pointsOf(s: Series): unknown[] {
  return s.values ?? (s.value === undefined ? [] : [s.value]);
}

function samePoints(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const [ta, va] = p as [number, string];
    const [tb, vb] = b[i] as [number, string];
    return ta === tb && sameValue(va, vb);
  });
}

export function sameValue(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= RELATIVE_TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

function normalise(series: Series[], ordered: boolean): Series[] {
  const out = series.map((s) => ({ ...s, metric: sortedLabels(s.metric) }));
  return ordered ? out : out.sort((a, b) => compareLabelSets(a.metric, b.metric));
}

function describe(rs: Series[], os: Series[]): string {
  const key = (s: Series) => JSON.stringify(s.metric);
  const oracleKeys = new Set(os.map(key));
  const routerKeys = new Set(rs.map(key));
  const extra = rs.map(key).filter((k) => !oracleKeys.has(k)).slice(0, 2);
  const missing = os.map(key).filter((k) => !routerKeys.has(k)).slice(0, 2);
  return `extra ${extra.join(' ')} missing ${missing.join(' ')}`;
}

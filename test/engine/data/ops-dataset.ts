// A small dataset for the oracle tests of the router's aggregation and binary operators: every series
// has one sample at T0, queries run at EVAL_TIME (inside the 5m lookback). Designed for matching edge
// cases: several jobs and instances, duplicate match groups, series with and without some labels,
// two metric names with identical other labels, and NaN / ±Inf / negative / zero / -0 values.

export const T0 = 1_700_000_000;
export const EVAL_TIME = T0 + 30;

type Row = readonly [labels: Record<string, string>, value: string];

const families: Record<string, Row[]> = {
  // The "many" side: requests per job / instance / code; some series lack job or code.
  req: [
    [{ job: 'api', instance: 'i1', code: '200' }, '10'],
    [{ job: 'api', instance: 'i2', code: '200' }, '20'],
    [{ job: 'api', instance: 'i1', code: '500' }, '1'],
    [{ job: 'api', instance: 'i7', code: '404' }, 'NaN'],
    [{ job: 'db', instance: 'i3', code: '200' }, '5'],
    [{ job: 'db', instance: 'i4' }, '-3'],
    [{ job: 'web', instance: 'i5', code: '200' }, '0'],
    [{ job: 'web', instance: 'i8', code: '404' }, '+Inf'],
    [{ job: 'web', instance: 'i9', code: '500' }, '-Inf'],
    [{ instance: 'i6' }, '7'],
  ],
  // The "one" side: one series per job (web has no team; batch matches nothing in req).
  limit: [
    [{ job: 'api', team: 'a' }, '100'],
    [{ job: 'db', team: 'b' }, '0'],
    [{ job: 'web' }, '-5'],
    [{ job: 'batch', team: 'c' }, '3'],
  ],
  // Two series for job="api": a duplicate match group on(job).
  limit_dup: [
    [{ job: 'api', zone: 'z1' }, '1'],
    [{ job: 'api', zone: 'z2' }, '2'],
    [{ job: 'db', zone: 'z1' }, '3'],
  ],
  // Two metric names with identical other labels.
  twin_a: [
    [{ job: 'api', instance: 'i1' }, '4'],
    [{ job: 'db', instance: 'i3' }, '0'],
    [{ job: 'web', instance: 'i5' }, 'NaN'],
    [{ job: 'web', instance: 'i8' }, '-2'],
  ],
  twin_b: [
    [{ job: 'api', instance: 'i1' }, '6'],
    [{ job: 'db', instance: 'i3' }, '0'],
    [{ job: 'web', instance: 'i5' }, '2'],
    [{ job: 'web', instance: 'i9' }, '-1'],
  ],
  // Aggregation groups by `g`, each exercising one numeric edge.
  vals: [
    ...group('ties', ['5', '5', '3', '5', '7', '3']),
    ...group('nan', ['NaN', '1', 'NaN', '3', '2']),
    ...group('nanlast', ['1', '2', 'NaN']),
    ...group('allnan', ['NaN', 'NaN']),
    ...group('inf', ['+Inf', '+Inf', '1']),
    ...group('mixinf', ['+Inf', '-Inf', '2']),
    ...group('ninf', ['-Inf', '5', '-Inf']),
    ...group('infnan', ['+Inf', 'NaN', '4']),
    ...group('neg', ['-1', '-2', '-0', '-7.5']),
    ...group('zero', ['-0']),
    ...group('big', ['1e308', '1e308', '-1e308', '1e308']),
    ...group('frac', ['0.1', '0.2', '0.30000000000000004', '1e21', '1e-7', '123456789012345680000', '5e-324']),
    ...group('single', ['42']),
    ...group('precise', ['1e16', '1', '-1e16', '3.3', '1e-3']),
  ],
  // More than 12 elements in one group (Go's sort switches from insertion sort there), with ties and NaNs.
  many: Array.from({ length: 30 }, (_, i): Row => [
    { i: String(i).padStart(2, '0'), p: String(i % 2) },
    i % 11 === 4 ? 'NaN' : String((i * 7) % 5),
  ]),
  // A wide group with few distinct values: Go's pdqsort meets unbalanced partitions and breaks patterns.
  wide: Array.from({ length: 300 }, (_, i): Row => [
    { i: String(i).padStart(3, '0'), p: String(i % 3) },
    i % 17 === 5 ? 'NaN' : String(((i * i) % 7) % 4),
  ]),
};

function group(g: string, values: string[]): Row[] {
  return values.map((v, i): Row => [{ g, i: String(i + 1) }, v]);
}

function render(): string {
  const lines: string[] = [];
  for (const [name, rows] of Object.entries(families)) {
    lines.push(`# TYPE ${name} gauge`);
    for (const [labels, value] of rows) {
      const ls = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
      lines.push(`${name}{${ls}} ${value} ${T0}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

export const OPS_OPENMETRICS = render();
/** Returns data once the backfilled blocks are loaded. */
export const READY_QUERY = 'req';

// Timestamps and steps as the Prometheus API parses them, for queries the router evaluates itself.
import { parseDurationParam } from '../promql/duration.ts';
import { parseGoFloat } from '../promql/literals.ts';
import { MAX_POINTS_PER_SERIES } from '../engine/grid.ts';
import { ApiError } from '../errors.ts';


/**
 * Float seconds in Go's syntax (`1700000000.5`, Grafana's `time=4`) or RFC 3339
 * (`2026-01-01T00:00:00Z`); epoch ms.
 */
export function parseTimeParam(name: string, value: string | null, fallback: number): number {
  if (value === null || value === '') return fallback;
  const seconds = parseGoFloat(value);
  if (seconds !== undefined && Number.isFinite(seconds)) return Math.round(seconds * 1000);
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new ApiError('bad_data', `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(value)} to a valid timestamp`);
}

export interface RangeParams { readonly start: number; readonly end: number; readonly step: number }

export function parseRangeParams(params: URLSearchParams): RangeParams {
  const required = (name: string) => {
    const v = params.get(name);
    if (v === null || v === '') throw new ApiError('bad_data', `invalid parameter ${JSON.stringify(name)}: cannot parse "" to a valid timestamp`);
    return v;
  };
  const start = parseTimeParam('start', required('start'), 0);
  const end = parseTimeParam('end', required('end'), 0);
  if (end < start) throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
  const step = parseDurationParam('step', params.get('step') ?? '');
  if (!(step > 0)) {
    throw new ApiError('bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  // Go divides the two durations as integers: 11,000.5 points are 11,000.
  if (Math.trunc((end - start) / step) > MAX_POINTS_PER_SERIES) {
    throw new ApiError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
  return { start, end, step: Math.round(step) };
}

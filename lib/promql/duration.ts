// Duration parameters of the HTTP API (step, timeout) as Prometheus's API parses them.
import { ApiError } from '../errors.ts';
import { parseGoFloat } from './literals.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000,
};

/** Go's time.Duration holds nanoseconds in an int64. */
const MAX_DURATION_NS = 2 ** 63;

/**
 * Parses a duration parameter the way Prometheus does (its API's parseDuration): float seconds in Go's
 * syntax ("1.5", "1e3", "0x1p4"), refused past what a Go duration holds, or a Prometheus duration
 * ("1m30s", "500ms"). Returns milliseconds, negative ones included: callers refuse those in their own
 * words, as Prometheus does. An error starts with `prefix` (Prometheus's words for the parameter).
 */
export function parseDurationParam(name: string, value: string, prefix = `invalid parameter "${name}": `): number {
  const seconds = parseGoFloat(value);
  if (seconds !== undefined) {
    if (Math.abs(seconds * 1e9) >= MAX_DURATION_NS) {
      throw new ApiError('bad_data', `${prefix}cannot parse "${value}" to a valid duration. It overflows int64`);
    }
    // Go turns a NaN float into the smallest int64 on amd64: a negative duration.
    return Number.isNaN(seconds) ? -Infinity : seconds * 1000;
  }
  const parts = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(value);
  if (value === '' || parts === null) throw invalid(prefix, value);
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  const ms = units.reduce((total, unit, i) => total + Number(parts[i + 1] ?? 0) * UNIT_MS[unit]!, 0);
  if (ms * 1e6 >= MAX_DURATION_NS) throw invalid(prefix, value);
  return ms;
}

function invalid(prefix: string, value: string): ApiError {
  return new ApiError('bad_data', `${prefix}cannot parse "${value}" to a valid duration`);
}

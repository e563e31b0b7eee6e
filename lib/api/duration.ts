import { ApiError } from './envelope.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000,
};

/**
 * Parses a duration parameter the way Prometheus does: float seconds ("1.5") or a Prometheus
 * duration ("1m30s", "500ms"). Returns milliseconds.
 */
export function parseDurationParam(name: string, value: string): number {
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) {
    if (seconds < 0) throw invalid(name, value);
    return seconds * 1000;
  }
  const parts = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(value);
  if (value === '' || parts === null) throw invalid(name, value);
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  return units.reduce((total, unit, i) => total + Number(parts[i + 1] ?? 0) * UNIT_MS[unit]!, 0);
}

function invalid(name: string, value: string): ApiError {
  return new ApiError('bad_data', `invalid parameter "${name}": cannot parse "${value}" to a valid duration`);
}

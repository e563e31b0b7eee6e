// `lookback_delta` for the leaves the router evaluates itself (merged shards): read as the replicas'
// Prometheus reads it, which depends on its version (web/api/v1/api.go from v2.43.0 on; 2.42 ignores it).
import { describe, expect, it } from 'vitest';
import { lookbackMs } from '../../lib/api/lookback.ts';
import { readsLookbackDelta } from '../../lib/api/versions.ts';
import { ApiError } from '../../lib/errors.ts';

const asked = (value: string) => new URLSearchParams({ lookback_delta: value });

describe('which versions read lookback_delta', () => {
  it('2.43.0 and later, 3.x, and versions not known; not 2.42 and older', () => {
    expect(['2.43.0', '2.53.1', 'v3.0.0-rc.1', '3.14.0', '0.34.1', 'collector a'].map(readsLookbackDelta)).toEqual([true, true, true, true, true, true]);
    expect(readsLookbackDelta(null)).toBe(true);
    expect(['2.42.0', '2.42.0+ds', '2.9.2', 'v2.37.1'].map(readsLookbackDelta)).toEqual([false, false, false, false]);
  });
});

describe('the lookback delta of a request', () => {
  it('is the default where absent or empty, and for a version that ignores the parameter, whatever its value', () => {
    expect(lookbackMs(new URLSearchParams(), '3.14.0')).toBe(300_000);
    expect(lookbackMs(asked(''), '3.14.0')).toBe(300_000);
    expect(lookbackMs(asked('1m'), '2.42.0')).toBe(300_000);
    expect(lookbackMs(asked('not a duration'), '2.42.0')).toBe(300_000);
  });

  it('parses durations and float seconds as Prometheus does, in whole milliseconds', () => {
    expect(['1m', '30s', '10m', '1h30m', '90', '0.5', '1.0009', '1e1'].map((v) => lookbackMs(asked(v), '2.43.0')))
      .toEqual([60_000, 30_000, 600_000, 5_400_000, 90_000, 500, 1000, 10_000]);
  });

  it('falls back to the default for zero and negative durations', () => {
    expect(['0', '0s', '-1', '-1.5'].map((v) => lookbackMs(asked(v), '3.14.0'))).toEqual([300_000, 300_000, 300_000, 300_000]);
  });

  it('refuses what Prometheus cannot parse with its 400 and its words', () => {
    for (const value of ['abc', '1x', '-1m', '1e300']) {
      const err = (() => { try { lookbackMs(asked(value), '3.14.0'); } catch (e) { return e; } })() as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.status).toBe(400);
      expect(err.errorType).toBe('bad_data');
      expect(err.message).toMatch(new RegExp(`^error parsing lookback delta duration: cannot parse "${value.replace(/[.+]/g, '\\$&')}" to a valid duration`));
    }
  });
});

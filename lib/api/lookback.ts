// The query parameter `lookback_delta` where the router evaluates selectors itself (the leaves of a
// shard whose replicas are merged): read as the replicas' Prometheus reads it. Collectors that answer
// for themselves get the parameter as it came and read it their own way.
import { DEFAULT_LOOKBACK_MS } from '../replicas/merged-leaf.ts';
import { parseDurationParam } from '../promql/duration.ts';
import { readsLookbackDelta } from './versions.ts';

/**
 * The lookback delta (ms) of a Prometheus of `version` asked with `params`. From 2.43.0 on, Prometheus
 * parses the parameter like any duration (400 bad_data, in its words, when it cannot) and falls back
 * to its default where it is zero or negative (promql.Engine.newQuery); a Go duration counts in
 * whole milliseconds there (durationMilliseconds). Before 2.43.0 it ignores the parameter.
 */
export function lookbackMs(params: URLSearchParams, version: string | null): number {
  const raw = params.get('lookback_delta') ?? '';
  if (raw === '' || !readsLookbackDelta(version)) return DEFAULT_LOOKBACK_MS;
  const ms = parseDurationParam('lookback_delta', raw, 'error parsing lookback delta duration: ');
  // Go truncates twice: float seconds to nanoseconds, nanoseconds to milliseconds.
  return ms > 0 ? Math.trunc(Math.trunc(ms * 1e6) / 1e6) : DEFAULT_LOOKBACK_MS;
}

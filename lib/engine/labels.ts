// Label-set operations with Prometheus's semantics, over the sorted-key records of types.ts.
import { compareStrings } from '../labelsets.ts';
import { quoteGo } from './go/format.ts';
import type { Labels } from './types.ts';

export const METRIC_NAME = '__name__';

/** Builds a label set from unsorted entries, dropping empty values (an empty value means "no label"). */
export function labelsFrom(entries: Iterable<readonly [string, string]>): Labels {
  const pairs = [...entries].filter(([, v]) => v !== '').sort(([a], [b]) => compareStrings(a, b));
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

/** The label set with `name` set to `value` (or removed when `value` is ""). */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const entries = Object.entries(labels).filter(([k]) => k !== name);
  if (value !== '') entries.push([name, value]);
  return labelsFrom(entries);
}

export function dropMetricName(labels: Labels): Labels {
  if (!(METRIC_NAME in labels)) return labels;
  const { [METRIC_NAME]: _dropped, ...rest } = labels;
  return rest;
}

/** Only the named labels (Prometheus's `Keep`, used by `on(...)` and `by (...)`). */
export function keepLabels(labels: Labels, names: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (names.includes(k)) out[k] = v;
  return out;
}

/** All but the named labels (`ignoring(...)`, `without (...)`). */
export function removeLabels(labels: Labels, names: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!names.includes(k)) out[k] = v;
  return out;
}

/** A string that is equal for equal label sets: a map key for grouping and matching. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(labels);
}

/** Prometheus's `{a="1", b="2"}` rendering of a label set, used in error messages. */
export function formatLabels(labels: Labels): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${quoteGo(v)}`).join(', ')}}`;
}

// The metadata answers of a shard's replicas as one: what one Prometheus holding the union of their
// data would list. Each takes the replicas' `data` (already checked against the endpoint's schema).
import { labelsKey } from '../engine/labels.ts';
import type { LabelSet } from '../labelsets.ts';

/** Label names or values: every one any replica lists (the endpoint sorts and deduplicates). */
export function uniteStrings(lists: readonly string[][]): string[] {
  return lists.flat();
}

/** Series: each label set once. */
export function uniteSeries(lists: readonly LabelSet[][]): LabelSet[] {
  const seen = new Map<string, LabelSet>();
  for (const list of lists) for (const labels of list) if (!seen.has(labelsKey(labels))) seen.set(labelsKey(labels), labels);
  return [...seen.values()];
}

interface SeriesExemplars {
  seriesLabels: LabelSet;
  exemplars: unknown[];
}

/**
 * Exemplars: one entry per series, with every exemplar any replica kept, once (replicas scraping the
 * same target store the same exemplar), in time order as Prometheus lists them.
 */
export function uniteExemplars<T extends SeriesExemplars>(lists: readonly T[][]): T[] {
  const bySeries = new Map<string, { entry: T; seen: Set<string> }>();
  for (const list of lists) {
    for (const entry of list) {
      const key = labelsKey(entry.seriesLabels);
      let united = bySeries.get(key);
      if (united === undefined) bySeries.set(key, (united = { entry: { ...entry, exemplars: [] }, seen: new Set() }));
      for (const exemplar of entry.exemplars) {
        const id = JSON.stringify(exemplar);
        if (united.seen.has(id)) continue;
        united.seen.add(id);
        united.entry.exemplars.push(exemplar);
      }
    }
  }
  const timeOf = (e: unknown) => Number((e as { timestamp?: unknown })?.timestamp ?? 0);
  for (const { entry } of bySeries.values()) entry.exemplars.sort((a, b) => timeOf(a) - timeOf(b));
  return [...bySeries.values()].map((u) => u.entry);
}

// Label sets as Prometheus orders them: labels sorted by name, sets compared label by label.

export type LabelSet = Record<string, string>;

/** Go compares strings by their UTF-8 bytes; JS's `<` compares UTF-16 units. They differ above U+FFFF. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A label set as collectors send it: a plain object of strings (a collector's answer is unchecked input). */
export function isLabelSet(value: unknown): value is LabelSet {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const v of Object.values(value)) if (typeof v !== 'string') return false;
  return true;
}

export function sortedLabels(labels: LabelSet): LabelSet {
  const out: LabelSet = {};
  for (const key of Object.keys(labels).sort(compareStrings)) out[key] = labels[key]!;
  return out;
}

/** Prometheus's labels.Compare for label sets whose keys are in sorted order. */
export function compareLabelSets(a: LabelSet, b: LabelSet): number {
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  const n = Math.min(ak.length, bk.length);
  for (let i = 0; i < n; i++) {
    const byName = compareStrings(ak[i]!, bk[i]!);
    if (byName !== 0) return byName;
    const byValue = compareStrings(a[ak[i]!]!, b[bk[i]!]!);
    if (byValue !== 0) return byValue;
  }
  return ak.length - bk.length;
}

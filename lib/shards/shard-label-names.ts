// The names the shard label rule gives labels (see lib/shard-label/edit.ts for the rule), shared by
// the two sides that translate: queries sent to collectors (lib/promql/rewrite.ts) and the
// collectors' answers (lib/shard-label, lib/collectors/json-scan.ts).

/** The label that keeps a collector's own value of the shard label (Mimir's tenant federation's name). */
export function originalLabel(label: string): string {
  return `original_${label}`;
}

/**
 * The shard label's name in queries sent to collectors, where the router attaches it itself
 * (label_replace) or reads it (`on(...)`, `by (...)`): a reserved name (scraped series carry no label
 * starting with `__` but `__name__`), since a collector's own `<label>` stands for `original_<label>`.
 */
export const SHARD_LABEL_ON_COLLECTORS = '__prome_route_shard__';

/** A label name of a query as collectors know it: the shard label and its original swap places. */
export function collectorLabelName(name: string, label: string): string {
  if (name === label) return SHARD_LABEL_ON_COLLECTORS;
  if (name === originalLabel(label)) return label;
  return name;
}

/** The label names of collectors' series that the rule translates (the rest pass as they are). */
export function translatedLabels(label: string): readonly string[] {
  return [label, originalLabel(label), SHARD_LABEL_ON_COLLECTORS];
}

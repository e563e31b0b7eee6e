// The key of a stored extent: everything that decides its series, hashed. Two requests share extents
// only when the router would compute the same answer for both: the same query text for the same
// shards of the same shard map (every shard's URLs, headers and settings: a map change never serves
// an answer computed under another map), the same tenant, the same grid (step and phase), the same
// parameters that change answers, and the same router version (a fix never serves the old answers).
import { createHash } from 'node:crypto';
import type { ShardMap } from '../shards/schema.ts';
import { VERSION } from '../version.ts';
import type { ExtentLayout } from './extents.ts';

export interface KeyParts {
  /** The tenant whose view of the map the request had; null for the router-wide view. */
  readonly tenant: string | null;
  readonly map: ShardMap;
  readonly query: string;
  /** The shards the query reads, in plan order. */
  readonly shards: readonly string[];
  readonly layout: ExtentLayout;
  /** Request parameters that change the answer and are passed on (`lookback_delta`), by name. */
  readonly params: Readonly<Record<string, string>>;
  /** Pushing aggregations down sums floats in another order: the last bits may differ. */
  readonly pushDown: boolean;
  /**
   * The Prometheus major of each shard asked (null: unknown), in `shards` order: a collector upgraded
   * from 2.x to 3.x answers (and has the router evaluate) with other semantics.
   */
  readonly majors: readonly (number | null)[];
}

/** Changes with the stored entry's format (entry.ts): entries of another format are never looked up. */
const FORMAT = 'prome-route:rc2';

/** The prefix of every extent key of one query; the extent's index follows it. */
export function extentKeyPrefix(parts: KeyParts): string {
  const identity = JSON.stringify([
    VERSION, parts.tenant, mapFingerprint(parts.map), parts.query, parts.shards, parts.layout.step, parts.layout.phase,
    parts.layout.stepsPerExtent, Object.entries(parts.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), parts.pushDown,
    parts.majors,
  ]);
  return `${FORMAT}:${createHash('sha256').update(identity).digest('base64url')}:`;
}

const fingerprints = new WeakMap<ShardMap, string>();

/**
 * A digest of the map's shard label and every field of every shard (whatever fields shards gain
 * later), the tenants' token hashes aside: computed once per map object.
 */
export function mapFingerprint(map: ShardMap): string {
  let print = fingerprints.get(map);
  if (print === undefined) {
    const canonical = JSON.stringify([map.shardLabel, [...map.shards.values()]], (_key, value: unknown) => (
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : value
    ));
    print = createHash('sha256').update(canonical).digest('base64url');
    fingerprints.set(map, print);
  }
  return print;
}

// Which Prometheus version each collector runs, from its /api/v1/status/buildinfo `version`, asked once
// per shard and kept for the shard map's TTL through the map's own loader (stale while it is asked
// again; an answer that fails keeps the last one). Where 2.x and 3.x differ in what the router
// evaluates itself, the majors of the map's shards decide which semantics it follows (README,
// "Versions"): all on one major, that one; mixed, 3.x, said in a warning; none known, 2.x. The
// version also says whether a merged shard's replicas read `lookback_delta` (lookback.ts).
import * as v from 'valibot';
import { AnswerBytes } from '../collectors/answer-bytes.ts';
import { callShard, readEnvelope } from '../collectors/client.ts';
import type { Major } from '../promql/function-table.ts';
import { cachedShardMap, DEFAULT_TTL_MS, type ShardMapLoader } from '../shards/loader.ts';
import type { Shard, ShardMap } from '../shards/schema.ts';

/** A build info answer is small; a collector that sends more is not answering the question. */
const MAX_BUILDINFO_BYTES = 64 * 1024;
/** How long asking a collector for its build info may take. */
const BUILDINFO_TIMEOUT_MS = 2_000;
/**
 * How long a request waits for a version not known yet before it goes on with that shard's version
 * unknown (the answer, when it comes, is kept for the next requests): a hung collector must not hold
 * up queries that the healthy shards answer.
 */
const BUILDINFO_WAIT_MS = 250;

const BUILD_INFO = v.object({ version: v.string() });

/** The major of a Prometheus version ("2.42.0", "3.14.0"), or null for anything else (Thanos, ...). */
export function majorOf(version: string): Major | null {
  const major = /^v?(\d+)\./.exec(version)?.[1];
  return major === '2' ? 2 : major === '3' ? 3 : null;
}

/** The semantics the router's own evaluation follows, and the warning that says so where shards differ. */
export interface Semantics {
  readonly major: Major;
  readonly warning: string | null;
}

/** The rule, over the shards whose major is known. */
export function semanticsOf(majors: ReadonlyMap<string, Major | null>): Semantics {
  const byMajor = new Map<Major, string[]>();
  for (const [shard, major] of majors) if (major !== null) byMajor.set(major, [...(byMajor.get(major) ?? []), shard]);
  if (byMajor.size <= 1) return { major: [...byMajor.keys()][0] ?? 2, warning: null };
  const list = (m: Major) => byMajor.get(m)!.map((s) => JSON.stringify(s)).join(', ');
  return {
    major: 3,
    warning: `shards run Prometheus 2.x (${list(2)}) and 3.x (${list(3)}): the router evaluated its part of the query with 3.x semantics (range windows open at their start, \`.\` matching newlines, 3.x's rate extrapolation and summation); each shard evaluated its own part with its own version's`,
  };
}

/** A shard no request has asked about for this many TTLs is forgotten (its loader and answer). */
const FORGET_AFTER_TTLS = 10;

const loaderKeys = new WeakMap<Shard, string>();

/** A shard's loader is its name and addresses: a shard moved to other collectors is asked again. */
function loaderKey(shard: Shard): string {
  let key = loaderKeys.get(shard);
  if (key === undefined) loaderKeys.set(shard, (key = JSON.stringify([shard.name, shard.urls])));
  return key;
}

/** The loader's answer, or null (unknown) if it takes longer than BUILDINFO_WAIT_MS. */
async function withinWait(answer: Promise<string | null>): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), BUILDINFO_WAIT_MS);
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a Prometheus of `version` reads the query parameter `lookback_delta`: 2.43.0 and later do
 * (prometheus#12088); older ones ignore it, invalid values included. An unknown version (not a
 * Prometheus, or not known yet) is taken to read it, as every release since March 2023 does.
 */
export function readsLookbackDelta(version: string | null): boolean {
  const parts = version === null || majorOf(version) === null ? null : /^v?(\d+)\.(\d+)\./.exec(version);
  return parts === null || Number(parts[1]) > 2 || Number(parts[2]) >= 43;
}

/** Each shard's Prometheus version, cached per shard (its name and addresses) for the map's TTL. */
export class ShardVersions {
  private readonly loaders = new Map<string, ShardMapLoader<string | null>>();
  /** When a request last asked for each loader's shard (ms): tenants see different shards of one map. */
  private readonly lastAsked = new Map<string, number>();

  constructor(private readonly ttlMs: number = DEFAULT_TTL_MS, private readonly now: () => number = Date.now) {}

  /** The majors of the map's shards (null where unknown), asked in parallel where not cached. */
  async majors(map: ShardMap): Promise<Map<string, Major | null>> {
    const versions = await this.versions(map);
    return new Map([...versions].map(([shard, version]) => [shard, version === null ? null : majorOf(version)]));
  }

  /** The versions of the map's shards (`2.42.0`; null where unknown), asked in parallel where not cached. */
  async versions(map: ShardMap): Promise<Map<string, string | null>> {
    const now = this.now();
    const entries = await Promise.all([...map.shards.values()].map(async (shard) => {
      const key = loaderKey(shard);
      this.lastAsked.set(key, now);
      let loader = this.loaders.get(key);
      if (loader === undefined) this.loaders.set(key, (loader = this.loaderFor(shard)));
      // Once a read has answered (it never rejects), the loader hands out that answer at once, asking
      // again in the background after its TTL: only a version never read yet is raced against a timer.
      const answer = loader.get();
      return [shard.name, loader.ageMs() !== null ? await answer : await withinWait(answer)] as const;
    }));
    // Shards no request has asked about for a while (gone from the map, or moved to other collectors)
    // are forgotten; not merely those missing from this map, which may be one tenant's view of it.
    for (const [key, asked] of this.lastAsked) {
      if (now - asked <= FORGET_AFTER_TTLS * this.ttlMs) continue;
      this.lastAsked.delete(key);
      this.loaders.delete(key);
    }
    return new Map(entries);
  }

  async semantics(map: ShardMap): Promise<Semantics> {
    return semanticsOf(await this.majors(map));
  }

  private loaderFor(shard: Shard): ShardMapLoader<string | null> {
    let last: string | null = null;
    return cachedShardMap<string | null>({
      description: `build info of shard ${JSON.stringify(shard.name)}`,
      // Never rejects: an unknown version is an answer too, kept for a TTL like any other.
      read: async () => {
        try {
          const call = { path: '/api/v1/status/buildinfo', params: new URLSearchParams(), method: 'GET' as const, deadline: Date.now() + BUILDINFO_TIMEOUT_MS };
          const { data } = await readEnvelope<unknown>(shard, await callShard(shard, call), new AnswerBytes(MAX_BUILDINFO_BYTES));
          const info = v.safeParse(BUILD_INFO, data);
          last = info.success ? info.output.version : null;
        } catch {
          // Unreachable: the last known version stands.
        }
        return last;
      },
    }, { ttlMs: this.ttlMs });
  }
}

/**
 * The major whose regexes pick shards by name: they differ only on a newline (`.` matches one in 3.x),
 * so the versions are asked only where a shard's name has one.
 */
export async function shardRegexMajor(versions: ShardVersions, map: ShardMap): Promise<Major> {
  for (const name of map.shards.keys()) if (name.includes('\n')) return (await versions.semantics(map)).major;
  return 2;
}

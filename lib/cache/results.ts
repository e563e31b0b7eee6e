// The results cache for range queries: a request's grid is cut into extents (extents.ts); the extents
// stored are read in one call, the missing ones are computed in as few queries as there are gaps (each
// widened to whole extents, so that what is computed once can be stored), and the answer is assembled
// from both (series.ts). The newest part of the range is never stored (collectors still receive
// samples for it), nor anything from an answer with warnings, nor an error.
//
// The backend is never trusted to be there: each call has a time limit well inside the request's
// deadline, a failure is a miss (one log line, and the backend is left alone for a while after it), and
// a stored value that is not an intact entry for its key is a miss too. The cache can cost time,
// never an answer.
import type { CacheBackend, StoredEntry } from './backend.ts';
import { decodedBytes, decodeEntry, encodeEntry } from './entry.ts';
import { withDeflatedPoints } from './gzip.ts';
import { extentIndex, extentRange, MAX_POINTS_PER_QUERY, type ExtentLayout, type StepRange } from './extents.ts';
import { assemble, seriesWithin, splitAnswer, type AnswerPiece, type SeriesBytes } from './series.ts';

/** Collectors still receive samples this close to now (scrapes, remote write, late rule evaluations). */
export const DEFAULT_FRESHNESS_MS = 10 * 60_000;
/** Stored extents expire after a week (a backend evicts least recently used ones before that when full). */
export const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;
/**
 * The longest one backend call may take: a cache in the same VPC answers in about a millisecond, and
 * a pipeline of a dashboard's extents in a few; past this the cache is slower than asking the shards.
 */
export const DEFAULT_CACHE_TIMEOUT_MS = 200;
/** After a failed call the backend is left alone this long: an outage costs one timeout, not one per request. */
const COOLDOWN_MS = 5_000;

export interface ResultsCacheOptions {
  readonly backend: CacheBackend;
  readonly freshnessMs?: number;
  readonly ttlSeconds?: number;
  readonly timeoutMs?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
  /** The time the freshness window is measured back from (tests move it; time limits use the clock). */
  readonly now?: () => number;
}

/** What the cache did for one request, for its log line, its metrics and its X-Cache header. */
export interface CacheUse {
  /** hit: nothing computed; partial: some extents read; miss: none read; bypass: the cache was not used. */
  outcome: 'hit' | 'partial' | 'miss' | 'bypass';
  extentsHit: number;
  /** Extents old enough to store that were not stored (or not readable). */
  extentsMissed: number;
  bytesRead: number;
  bytesWritten: number;
  /** Backend calls that failed or ran out of time, and stored values that were not intact entries. */
  errors: number;
}

export function unusedCache(): CacheUse {
  return { outcome: 'bypass', extentsHit: 0, extentsMissed: 0, bytesRead: 0, bytesWritten: 0, errors: 0 };
}

export interface RangeRequest {
  /** extentKeyPrefix(...) of the query: the extent's index is appended. */
  readonly keyPrefix: string;
  readonly layout: ExtentLayout;
  readonly range: StepRange;
  /** Epoch ms by which the answer must be ready. */
  readonly deadline: number;
  /**
   * The client takes gzip: the extents this request stores carry their points compressed as well, so
   * that answers built from them, this one included, are sent without compressing them again (clients
   * that do not take gzip never pay for it).
   */
  readonly compressStored: boolean;
}

/**
 * The answer's bytes for a part of the grid, computed as the router computes any range query; null
 * for an answer too large to hold whole.
 */
export type ComputeRange = (range: StepRange) => Promise<Buffer | null>;

interface Run {
  readonly first: number;
  readonly last: number;
  readonly range: StepRange;
}

/**
 * A run's answer: widened to whole extents where it may be stored, or, when the widened query fails
 * (steps outside the request can fail where the request's own do not: a label set met twice, a
 * sample limit), the request's own part of it, which is then not stored. An error there is the error
 * the whole request gives.
 */
async function computeRun(run: Run, range: StepRange, gridEnd: number, compute: ComputeRange): Promise<ComputedRun> {
  const wanted = { start: Math.max(run.range.start, range.start), end: Math.min(run.range.end, gridEnd), step: range.step };
  const widened = run.range.start !== wanted.start || run.range.end !== wanted.end;
  if (!widened) return { run, wanted, whole: true, widened, body: await compute(wanted) };
  try {
    return { run, wanted, whole: true, widened, body: await compute(run.range) };
  } catch {
    return { run, wanted, whole: false, widened: false, body: await compute(wanted) };
  }
}

interface ComputedRun {
  readonly run: Run;
  /** The request's own part of the run. */
  readonly wanted: StepRange;
  /** The answer covers the whole run (its extents may be stored). */
  readonly whole: boolean;
  /** The answer covers more than `wanted`. */
  readonly widened: boolean;
  readonly body: Buffer | null;
}

export class ResultsCache {
  readonly freshnessMs: number;
  private readonly ttlSeconds: number;
  private readonly timeoutMs: number;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly now: () => number;
  private skipUntil = 0;

  constructor(readonly options: ResultsCacheOptions) {
    this.freshnessMs = options.freshnessMs ?? DEFAULT_FRESHNESS_MS;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS;
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  get backend(): CacheBackend {
    return this.options.backend;
  }

  /**
   * The answer's pieces for the request's grid, from stored extents and computed parts; null when a
   * computed part cannot be taken apart (warnings, native histograms): then the caller computes the
   * whole range as if there were no cache.
   */
  async answer(request: RangeRequest, compute: ComputeRange, use: CacheUse): Promise<AnswerPiece[] | null> {
    const { layout, range } = request;
    const gridEnd = range.start + Math.floor((range.end - range.start) / range.step) * range.step;
    const cutoff = this.now() - this.freshnessMs;
    const first = extentIndex(layout, range.start);
    const last = extentIndex(layout, gridEnd);
    const storable = (i: number) => extentRange(layout, i).end <= cutoff;

    const indexes: number[] = [];
    for (let i = first; i <= last && storable(i); i++) indexes.push(i);
    const keyOf = (i: number) => `${request.keyPrefix}${i}`;
    const keys = indexes.map(keyOf);
    const stored = await this.read(keys, request.deadline, use);

    const pieces = new Map<number, readonly SeriesBytes[]>();
    let unreadable = 0;
    indexes.forEach((i, n) => {
      const value = stored[n];
      if (value === null || value === undefined) return;
      const key = keys[n]!;
      const decode = () => {
        const series = decodeEntry(key, value);
        return { value: series, bytes: decodedBytes(series) };
      };
      const series = this.backend.decoded === undefined ? decode().value : this.backend.decoded(key, value, decode);
      if (series === null) {
        unreadable++;
        return;
      }
      use.bytesRead += value.byteLength;
      const extent = extentRange(layout, i);
      pieces.set(extent.start, extent.start >= range.start && extent.end <= gridEnd ? series : seriesWithin(series, range));
    });
    if (unreadable > 0) {
      use.errors += unreadable;
      this.log({ level: 'warn', msg: 'results cache entries unreadable, computed instead', backend: this.backend.kind, entries: unreadable });
    }
    use.extentsHit = pieces.size;
    use.extentsMissed = indexes.length - pieces.size;

    const runs = this.runs(layout, range, gridEnd, first, last, (i) => pieces.has(extentRange(layout, i).start), storable);
    const writes: StoredEntry[] = [];
    const computed = await Promise.all(runs.map((run) => computeRun(run, range, gridEnd, compute)));
    for (const { run, wanted, whole: complete, widened, body } of computed) {
      const series = body === null ? null : splitAnswer(body);
      if (series === null) {
        // The one part computed is the request itself: its answer is the answer, as computed.
        const whole = body !== null && runs.length === 1 && pieces.size === 0 && wanted.start === range.start && wanted.end === gridEnd && !widened;
        return whole ? [{ bytes: body, deflated: null }] : null;
      }
      // The extents stored from this run give the answer their part as stored (their points compressed
      // once, for the entry and for this answer alike); the rest of the run's part follows them.
      let rest = wanted.start;
      for (let i = run.first; complete && i <= run.last; i++) {
        if (!storable(i)) break;
        const extent = extentRange(layout, i);
        const cut = seriesWithin(series, extent);
        const stored = request.compressStored ? withDeflatedPoints(cut) : cut;
        writes.push({ key: keyOf(i), value: encodeEntry(keyOf(i), stored) });
        const from = Math.max(extent.start, wanted.start);
        const to = Math.min(extent.end, wanted.end);
        if (from <= to) pieces.set(from, from === extent.start && to === extent.end ? stored : seriesWithin(stored, { start: from, end: to, step: range.step }));
        rest = extent.end + range.step;
      }
      if (rest <= wanted.end) {
        pieces.set(rest, rest === wanted.start && !widened ? series : seriesWithin(series, { start: rest, end: wanted.end, step: range.step }));
      }
    }
    use.outcome = runs.length === 0 ? 'hit' : use.extentsHit > 0 ? 'partial' : 'miss';
    await this.write(writes, request.deadline, use);
    return assemble([...pieces].sort(([a], [b]) => a - b).map(([, series]) => series));
  }

  /**
   * The parts to compute: each gap between stored extents, widened to whole extents where those may be
   * stored (the request's first and last extent are often cut), in queries of at most Prometheus's
   * 11,000 points.
   */
  private runs(layout: ExtentLayout, range: StepRange, gridEnd: number, first: number, last: number, held: (i: number) => boolean, storable: (i: number) => boolean): Run[] {
    const maxExtents = Math.max(1, Math.floor(MAX_POINTS_PER_QUERY / layout.stepsPerExtent) - 1);
    const runs: Run[] = [];
    let i = first;
    while (i <= last) {
      if (held(i)) {
        i++;
        continue;
      }
      const from = i;
      while (i <= last && !held(i) && i - from < maxExtents) i++;
      const to = i - 1;
      const start = storable(from) ? extentRange(layout, from).start : Math.max(range.start, extentRange(layout, from).start);
      const end = storable(to) ? extentRange(layout, to).end : Math.min(gridEnd, extentRange(layout, to).end);
      runs.push({ first: from, last: to, range: { start, end, step: range.step } });
    }
    return runs;
  }

  private async read(keys: readonly string[], deadline: number, use: CacheUse): Promise<(Buffer | null)[]> {
    const none = keys.map(() => null);
    if (keys.length === 0) return none;
    try {
      return await this.call('read', deadline, (timeoutMs) => this.backend.get(keys, timeoutMs)) ?? none;
    } catch {
      use.errors++;
      return none;
    }
  }

  private async write(entries: readonly StoredEntry[], deadline: number, use: CacheUse): Promise<void> {
    if (entries.length === 0) return;
    try {
      const done = await this.call('write', deadline, (timeoutMs) => this.backend.set(entries, this.ttlSeconds, timeoutMs));
      if (done !== null) for (const e of entries) use.bytesWritten += e.value.byteLength;
    } catch {
      use.errors++;
    }
  }

  /** One backend call within its time limit; null when the backend is being left alone. */
  private async call<T>(what: string, deadline: number, run: (timeoutMs: number) => Promise<T>): Promise<T | null> {
    const now = Date.now();
    if (now < this.skipUntil) return null;
    const timeoutMs = Math.min(this.timeoutMs, deadline - now);
    if (timeoutMs < 1) return null;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A backend in this process answers at once: a timer per call would only cost.
      if (this.backend.inProcess) return await run(timeoutMs);
      return await Promise.race([
        run(timeoutMs),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (err) {
      this.skipUntil = Date.now() + COOLDOWN_MS;
      this.log({ level: 'warn', msg: `results cache ${what} failed; skipping the cache for ${COOLDOWN_MS / 1000} s`, backend: this.backend.kind, error: (err as Error).message });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

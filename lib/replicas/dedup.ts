// One series from several replicas of a shard (an HA pair scraping the same targets) as one series,
// the way Thanos's dedup iterator (pkg/dedup/iter.go) treats replicas: stay on one replica's samples
// and switch to another only where the one in use has a gap; never interleave the two.
//
// The rule, per series:
//   1. I is the series' scrape interval: the median of the gaps between consecutive samples of each
//      replica (the replicas' own gaps, never the offsets between replicas).
//   2. Start on the replica with the earliest sample (the first listed on a tie).
//   3. After the last sample taken, at time L, the replica in use offers its next sample N. If N is at
//      most 1.5 I after L, take it: the replica has no gap.
//   4. Otherwise the replica in use has a gap (or has ended): take the earliest sample of another
//      replica that lies after L + I/2 and before N, and stay on that replica from then on. With none,
//      take N.
// What follows:
//   - Replicas holding the same samples at the same timestamps (one data set with holes here and
//     there) merge into exactly their union, whatever the holes, as long as they do not overlap.
//   - With scrape offsets (replica B δ after A), a switch lands on the first of B's samples more than
//     I/2 after A's last one: the merged series keeps a sample about every I, as Thanos's penalty
//     keeps it; unlike Thanos's penalty (twice the last gap), it does not skip up to two of B's samples
//     after a switch, so a hole is filled from its first scrape on.
// Limits (as in Thanos): a gap of the replica in use shorter than 1.5 I is not filled from the other;
// counter values differ slightly between replicas (scraped at other moments), so a rate over a switch
// sees a small step, and a counter reset on one replica only is a reset in the merged series; a
// staleness marker is an ordinary sample here, so the marker of the replica in use ends the series
// at that point even if the other replica goes on (the next sample, from either, starts it again).
// Series with a single sample per replica have no interval: I = 0, and every gap is a gap.
//
// The rule is applied to the samples one read returns (a leaf's whole time range, read once for all
// its steps), so its start is where that range starts: rule 2 picks the replica with the earliest
// sample in the range. Where both replicas hold samples all through a range with scrape offsets, two
// queries whose ranges start differently may follow different replicas (and see values a few seconds
// apart); where replicas hold the same timestamps, the choice changes nothing. The range's end is not
// a gap: a replica whose last sample in the range is within 1.5 I of its end may go on after it, so
// nothing is taken from the others there (rule 4 needs to see the gap).

/** One replica's samples of a series, timestamps ascending (epoch ms). */
export interface ReplicaSamples {
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

export interface MergedSamples {
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** The scrape interval estimate of rule 1; 0 where no replica has two samples. */
export function scrapeInterval(replicas: readonly ReplicaSamples[]): number {
  const gaps: number[] = [];
  for (const { timestamps: t } of replicas) for (let i = 1; i < t.length; i++) if (t[i]! > t[i - 1]!) gaps.push(t[i]! - t[i - 1]!);
  if (gaps.length === 0) return 0;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}

/** `end`: the end of the time range the samples were read for (epoch ms); Infinity: all there is. */
export function dedupReplicas(replicas: readonly ReplicaSamples[], end = Infinity): MergedSamples {
  const live = replicas.filter((r) => r.timestamps.length > 0);
  if (live.length === 0) return { timestamps: new Float64Array(0), values: new Float64Array(0) };
  if (live.length === 1) return { timestamps: Float64Array.from(live[0]!.timestamps), values: Float64Array.from(live[0]!.values) };
  const interval = scrapeInterval(live);
  const maxGap = 1.5 * interval;
  const minSpacing = interval / 2;
  const total = live.reduce((n, r) => n + r.timestamps.length, 0);
  const outT = new Float64Array(total);
  const outV = new Float64Array(total);
  let count = 0;
  const next = new Int32Array(live.length); // per replica, its first sample not yet passed
  // Moves replica r's cursor to its first sample after `after`; its timestamp, or Infinity.
  const seek = (r: number, after: number): number => {
    const t = live[r]!.timestamps;
    let i = next[r]!;
    while (i < t.length && t[i]! <= after) i++;
    next[r] = i;
    return i < t.length ? t[i]! : Infinity;
  };
  let current = 0;
  for (let r = 1; r < live.length; r++) if (live[r]!.timestamps[0]! < live[current]!.timestamps[0]!) current = r;
  let last = -Infinity;
  for (;;) {
    const n = seek(current, last);
    let chosen = current;
    // Past the last sample in the range, a gap shows only if the range goes on for long enough.
    if (n === Infinity && end - last <= maxGap) break;
    if (n - last > maxGap) {
      // The replica in use has a gap here: the earliest sample of another one inside it, if any.
      let best = n;
      for (let r = 0; r < live.length; r++) {
        if (r === current) continue;
        const t = seek(r, last + minSpacing);
        if (t < best) [best, chosen] = [t, r];
      }
    }
    if (chosen === current && n === Infinity) break;
    const i = next[chosen]!;
    last = live[chosen]!.timestamps[i]!;
    outT[count] = last;
    outV[count] = live[chosen]!.values[i]!;
    count++;
    current = chosen;
  }
  return { timestamps: outT.slice(0, count), values: outV.slice(0, count) };
}

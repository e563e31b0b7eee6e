// The dedup rule of lib/replicas/dedup.ts on small hand-made replicas: what the rule says each case
// must give (these are sample lists, not PromQL results).
import { describe, expect, it } from 'vitest';
import { dedupReplicas, scrapeInterval, type ReplicaSamples } from '../../lib/replicas/dedup.ts';

const I = 15_000;

/** Samples every I from `from` to `to` (inclusive, ms), value = t / 1000, plus `shift`, without `holes`. */
function replica(from: number, to: number, shift = 0, holes: [number, number][] = []): ReplicaSamples {
  const timestamps: number[] = [];
  for (let t = from; t <= to; t += I) if (!holes.some(([a, b]) => t >= a && t < b)) timestamps.push(t + shift);
  return { timestamps, values: timestamps.map((t) => t / 1000) };
}

const times = (r: { timestamps: ArrayLike<number> }) => Array.from(r.timestamps);

describe('dedupReplicas', () => {
  it('gives the union of replicas with the same timestamps and holes that do not overlap', () => {
    const a = replica(0, 60 * I, 0, [[10 * I, 20 * I]]);
    const b = replica(0, 60 * I, 0, [[30 * I, 45 * I]]);
    const merged = dedupReplicas([a, b]);
    expect(times(merged)).toEqual(times(replica(0, 60 * I)));
    expect(Array.from(merged.values)).toEqual(times(replica(0, 60 * I)).map((t) => t / 1000));
  });

  it('stays on one replica while it has no gap, with another offset by a few seconds', () => {
    const a = replica(0, 20 * I);
    const b = replica(0, 20 * I, 3_000);
    expect(times(dedupReplicas([a, b]))).toEqual(times(a));
    // The earliest first sample decides where to start: here b's.
    expect(times(dedupReplicas([replica(0, 20 * I, 3_000), replica(I, 20 * I)]))).toEqual(times(replica(0, 20 * I, 3_000)));
  });

  it('switches across a gap to the first sample of the other more than I/2 after the last one taken, and stays there', () => {
    const a = replica(0, 40 * I, 0, [[10 * I, 20 * I]]);
    const b = replica(0, 40 * I, 3_000, [[30 * I, 35 * I]]);
    const merged = times(dedupReplicas([a, b]));
    // a up to 9I; b from 10I+3s (9I+3s is too close to 9I) to its last before its own gap, 29I+3s;
    // then a again from 30I (30I-... is after 29I+3s + I/2), to the end.
    const expected = [
      ...times(replica(0, 9 * I)),
      ...times(replica(10 * I, 29 * I, 3_000)),
      ...times(replica(30 * I, 40 * I)),
    ];
    expect(merged).toEqual(expected);
  });

  it('does not fill a gap of the replica in use shorter than 1.5 scrape intervals', () => {
    const a = { timestamps: [0, I, 2 * I, 3 * I + 7_000, 4 * I + 7_000], values: [1, 2, 3, 4, 5] };
    const b = replica(0, 5 * I, 1_000);
    expect(times(dedupReplicas([a, b]))).toEqual([0, I, 2 * I, 3 * I + 7_000, 4 * I + 7_000, 5 * I + 1_000]);
  });

  it('goes on with another replica where the one in use ends', () => {
    const merged = dedupReplicas([replica(0, 5 * I), replica(0, 10 * I, 2_000)]);
    expect(times(merged)).toEqual([...times(replica(0, 5 * I)), ...times(replica(6 * I, 10 * I, 2_000))]);
  });

  it('takes nothing from the others after the last sample of the one in use when the range ends within 1.5 intervals', () => {
    const a = replica(0, 10 * I);
    const b = replica(5 * I, 11 * I, 10_000);
    // Read for [0, 10I + 11s]: b's 10I+10s may be followed by a's next scrape, after the range.
    expect(times(dedupReplicas([a, b], 10 * I + 11_000))).toEqual(times(a));
    // Read for longer, a's silence after 10I is a gap: b's samples fill it.
    expect(times(dedupReplicas([a, b], 12 * I))).toEqual([...times(a), 10 * I + 10_000, 11 * I + 10_000]);
  });

  it('merges three replicas, and single samples without an interval', () => {
    const a = replica(0, 10 * I, 0, [[2 * I, 8 * I]]);
    const b = replica(0, 10 * I, 0, [[0, 4 * I]]);
    const c = replica(0, 10 * I, 0, [[5 * I, 11 * I]]);
    expect(times(dedupReplicas([a, b, c]))).toEqual(times(replica(0, 10 * I)));
    expect(times(dedupReplicas([{ timestamps: [5], values: [1] }, { timestamps: [3], values: [2] }, { timestamps: [5], values: [3] }]))).toEqual([3, 5]);
    expect(dedupReplicas([{ timestamps: [], values: [] }, { timestamps: [], values: [] }]).timestamps.length).toBe(0);
  });

  it('estimates the interval from each replica alone', () => {
    expect(scrapeInterval([replica(0, 10 * I), replica(0, 10 * I, 3_000)])).toBe(I);
    expect(scrapeInterval([{ timestamps: [1], values: [0] }])).toBe(0);
  });
});

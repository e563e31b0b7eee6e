// The results cache's parts on their own: extents, answers as bytes, stored entries, the memory
// backend's bound, what makes a query depend on its window, and what its key holds.
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { windowDependence } from '../../lib/cache/cacheable.ts';
import { decodedBytes, decodeEntry, encodeEntry } from '../../lib/cache/entry.ts';
import { extentIndex, extentRange, layoutOf } from '../../lib/cache/extents.ts';
import { extentKeyPrefix } from '../../lib/cache/key.ts';
import { MemoryBackend } from '../../lib/cache/memory.ts';
import { ResultsCache, unusedCache } from '../../lib/cache/results.ts';
import { assemble, bytesOf, pointsWithin, seriesWithin, splitAnswer, type AnswerPiece } from '../../lib/cache/series.ts';
import { gzipMember, withDeflatedPoints } from '../../lib/cache/gzip.ts';
import { parsePromQL } from '../../lib/promql/parse.ts';
import { parseShardMap } from '../../lib/shards/schema.ts';

/** A matrix answer in Prometheus's compact JSON, for series given as label sets and [seconds, value] points. */
function answer(series: { metric: Record<string, string>; values: [number, string][] }[]): Buffer {
  return Buffer.from(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: series } }));
}

const A = { __name__: 'up', job: 'a' };
const B = { __name__: 'up', job: 'b' };
const whole = answer([
  { metric: A, values: [[60, '1'], [120, '1'], [180, '0'], [240, '1']] },
  { metric: B, values: [[180, '2'], [240, '+Inf']] },
]);

describe('extents', () => {
  it('are aligned to absolute time on the grid, whatever the window', () => {
    const layout = layoutOf({ start: 1_000_000 + 15_000 * 7, end: 2_000_000, step: 15_000 });
    expect(layout.stepsPerExtent).toBe(60);
    expect(layout.phase).toBe(1_000_000 % 15_000);
    const i = extentIndex(layout, 1_105_000);
    const extent = extentRange(layout, i);
    expect(extent.start <= 1_105_000 && 1_105_000 <= extent.end).toBe(true);
    expect((extent.start - layout.phase) % (15_000 * 60)).toBe(0);
    expect((extent.end - extent.start) / 15_000).toBe(59);
    expect(layoutOf({ start: 0, end: 1, step: 1 }).stepsPerExtent).toBe(1_000);
    expect(layoutOf({ start: 0, end: 1, step: 3_600_000 }).stepsPerExtent).toBe(30);
  });
});

describe('answers as bytes', () => {
  it('split into series and put together again give the same bytes, cut at any step', () => {
    const series = splitAnswer(whole)!;
    expect(series.map((s) => s.key)).toEqual([JSON.stringify(A), JSON.stringify(B)]);
    expect(Buffer.concat(bytesOf(assemble([series]))).equals(whole)).toBe(true);
    for (const cut of [60_000, 120_000, 180_000, 240_000]) {
      const early = seriesWithin(series, { start: 0, end: cut - 1, step: 60_000 });
      const late = seriesWithin(series, { start: cut, end: 300_000, step: 60_000 });
      expect(Buffer.concat(bytesOf(assemble([early, late]))).toString()).toBe(whole.toString());
    }
  });

  it('keep only the points of a window', () => {
    const points = splitAnswer(whole)![0]!.points;
    expect(pointsWithin(points, 100_000, 200_000).toString()).toBe('[120,"1"],[180,"0"]');
    expect(pointsWithin(points, 300_000, 400_000).length).toBe(0);
  });

  it('keep the points of any window, as reading every point would (points with gaps, values of every spelling)', () => {
    const values = ['0', '-1.5', 'NaN', '+Inf', '-Inf', '1e+21', '123456.789'];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const times: number[] = [];
      for (let t = 1_700_000_000_000 + random(4) * 15_000, n = random(40); n > 0; n--, t += 7_500 * (1 + random(3))) times.push(t);
      const points = Buffer.from(times.map((t) => `[${t / 1000},"${values[random(values.length)]}"]`).join(','));
      const from = (times[0] ?? 1_700_000_000_000) - 30_000 + random(40) * 7_500;
      const to = from + random(40) * 7_500;
      const naive = points.toString().split('],[').map((p, i, all) => (i > 0 ? '[' : '') + p + (i < all.length - 1 ? ']' : ''))
        .filter((p, i) => p !== '' && times[i]! >= from && times[i]! <= to).join(',');
      expect(pointsWithin(points, from, to).toString(), `${points.toString()} [${from}, ${to}]`).toBe(naive);
    }
  });

  it('are never taken apart when they carry warnings, histograms, or another spelling', () => {
    const withWarnings = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] }, warnings: ['shard "b" is missing'] });
    const histograms = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: A, histograms: [[60, { count: '1' }]] }] } });
    const both = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: A, values: [[60, '1']], histograms: [[60, { count: '1' }]] }] } });
    const empty = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: A, values: [] }] } });
    for (const body of [withWarnings, histograms, both, empty, JSON.stringify(JSON.parse(whole.toString()), null, 1), '{"status":"success","data":{"resultType":"vector","result":[]}}', 'nonsense']) {
      expect(splitAnswer(Buffer.from(body)), body).toBeNull();
    }
  });
});

describe('stored entries', () => {
  const series = splitAnswer(whole)!;
  const entry = encodeEntry('k:1', withDeflatedPoints(series));

  it('decode to the series they were made of', () => {
    const decoded = decodeEntry('k:1', entry)!;
    expect(Buffer.concat(bytesOf(assemble([decoded]))).equals(whole)).toBe(true);
  });

  it('hold no compressed points when stored for a client that does not take gzip', () => {
    const decoded = decodeEntry('k:1', encodeEntry('k:1', series))!;
    expect(decoded.map((s) => s.deflated)).toEqual(series.map(() => null));
    expectPieces(assemble([decoded]), whole);
  });

  it('hold each series\' points compressed, kept while the points are whole and dropped once they are cut', () => {
    const decoded = decodeEntry('k:1', entry)!;
    for (const s of decoded) expect(inflateRawSync(Buffer.concat([s.deflated!, Buffer.from([1, 0, 0, 0xff, 0xff])])).equals(s.points)).toBe(true);
    expect(seriesWithin(decoded, { start: 0, end: 10 ** 13, step: 60_000 })).toEqual(decoded);
    const cut = seriesWithin(decoded, { start: 0, end: 120_000, step: 60_000 });
    expect(cut.length).toBeGreaterThan(0);
    for (const s of cut) expect(s.deflated).toBeNull();
    expectPieces(assemble([cut, seriesWithin(decoded, { start: 180_000, end: 10 ** 13, step: 60_000 })]), whole);
  });

  it('are refused when garbled, cut short, or read under another key', () => {
    const flipped = Buffer.from(entry);
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 1;
    for (const value of [Buffer.from('garbage'), entry.subarray(0, entry.length - 1), flipped, Buffer.alloc(0)]) {
      expect(decodeEntry('k:1', value)).toBeNull();
    }
    expect(decodeEntry('k:2', entry)).toBeNull();
  });

});

describe('the memory backend', () => {
  it('holds at most its bound in bytes, dropping the least recently used first', async () => {
    const memory = new MemoryBackend(10_000);
    const value = Buffer.alloc(3_000, 1);
    await memory.set([{ key: 'a', value }, { key: 'b', value }, { key: 'c', value }], 60);
    await memory.get(['a']); // a is now the most recently used
    await memory.set([{ key: 'd', value }], 60);
    expect(memory.bytes).toBeLessThanOrEqual(10_000);
    expect((await memory.get(['a', 'b', 'c', 'd'])).map((v) => v !== null)).toEqual([true, false, true, true]);
    await memory.set([{ key: 'huge', value: Buffer.alloc(20_000) }], 60);
    expect(await memory.get(['huge'])).toEqual([null]);
    expect(memory.bytes).toBeLessThanOrEqual(10_000);
  });

  it('keeps entries read since they last came round over entries not read', async () => {
    const memory = new MemoryBackend(10_000);
    const value = Buffer.alloc(2_000, 1);
    await memory.set(['a', 'b', 'c', 'd'].map((key) => ({ key, value })), 60);
    await memory.get(['a', 'c']);
    await memory.set([{ key: 'e', value }, { key: 'f', value }], 60); // two must go: b and d, not read
    expect((await memory.get(['a', 'b', 'c', 'd', 'e', 'f'])).map((v) => v !== null)).toEqual([true, false, true, false, true, true]);
    expect(memory.bytes).toBeLessThanOrEqual(10_000);
  });

  it('never evicts the entry it is storing, even when every other entry was read', async () => {
    const memory = new MemoryBackend(10_000);
    const value = Buffer.alloc(2_000, 1);
    await memory.set(['a', 'b', 'c', 'd'].map((key) => ({ key, value })), 60);
    await memory.get(['a', 'b', 'c', 'd']);
    await memory.set([{ key: 'e', value }], 60);
    expect((await memory.get(['a', 'b', 'c', 'd', 'e'])).map((v) => v !== null)).toEqual([false, true, true, true, true]);
  });

  it('decodes a value it holds once, and counts the decoded form in its bound', async () => {
    const memory = new MemoryBackend(100_000);
    const value = encodeEntry('k', withDeflatedPoints(splitAnswer(whole)!));
    await memory.set([{ key: 'k', value }], 60);
    const stored = memory.bytes;
    let decodes = 0;
    const decode = () => {
      decodes++;
      const series = decodeEntry('k', value);
      return { value: series, bytes: decodedBytes(series) };
    };
    const [held] = await memory.get(['k']);
    const first = memory.decoded('k', held!, decode);
    expect(memory.decoded('k', (await memory.get(['k']))[0]!, decode)).toBe(first);
    expect(decodes).toBe(1);
    expect(memory.bytes).toBe(stored + decodedBytes(first));
    // A value that is not the one held under the key (a stray copy) is decoded, not remembered.
    memory.decoded('k', Buffer.from(value), decode);
    expect(decodes).toBe(2);
    expect(Buffer.concat(bytesOf(assemble([first!]))).equals(whole)).toBe(true);
  });

  it('forgets entries past their time', async () => {
    let now = 0;
    const memory = new MemoryBackend(10_000, () => now);
    await memory.set([{ key: 'a', value: Buffer.from('x') }], 60);
    now = 61_000;
    expect(await memory.get(['a'])).toEqual([null]);
    expect(memory.bytes).toBe(0);
  });
});

describe('queries whose steps depend on the window', () => {
  it.each([
    ['sum(up @ end())', '@ end()'],
    ['rate(up[5m] @ start())', '@ start()'],
    ['max_over_time(sum(up)[10m:1m] @ end())', '@ end()'],
    ['up', null],
    ['up @ 1700000000', null],
    ['max_over_time(sum(up)[10m:1m] offset 5m)', null],
    ['time() - timestamp(up)', null],
    ['rate(up[range()])', 'range()'],
    ['up offset -range()', 'range()'],
    ['max_over_time(up[step()*2])', null],
  ])('%s', (query, reason) => {
    expect(windowDependence(parsePromQL(query))).toBe(reason);
  });
});

describe('extent keys', () => {
  const map = parseShardMap({ shards: { a: { urls: ['http://127.0.0.1:9090'] }, b: { urls: ['http://127.0.0.1:9091'] } } });
  const layout = layoutOf({ start: 0, end: 3_600_000, step: 15_000 });
  const parts = { tenant: null, map, query: 'up', shards: ['a', 'b'], layout, params: {}, pushDown: true, majors: [2, 2] };

  it('differ for every part that changes an answer, and not otherwise', () => {
    const base = extentKeyPrefix(parts);
    expect(extentKeyPrefix({ ...parts })).toBe(base);
    const moved = parseShardMap({ shards: { a: { urls: ['http://127.0.0.1:9092'] }, b: { urls: ['http://127.0.0.1:9091'] } } });
    for (const other of [
      { tenant: 'team-a' }, { map: moved }, { query: 'up ' }, { shards: ['a'] }, { layout: layoutOf({ start: 1_000, end: 3_600_000, step: 15_000 }) },
      { layout: layoutOf({ start: 0, end: 3_600_000, step: 30_000 }) }, { params: { lookback_delta: '1m' } }, { pushDown: false },
      { majors: [2, 3] }, { majors: [2, null] },
    ]) {
      expect(extentKeyPrefix({ ...parts, ...other }), JSON.stringify(other)).not.toBe(base);
    }
  });
});

describe('the results cache', () => {
  /** An answer of one series with a point at every step of `range`, its value the step's time: as any range query writes it. */
  const stepAnswer = (range: { start: number; end: number; step: number }) => {
    const values: [number, string][] = [];
    for (let t = range.start; t <= range.end; t += range.step) values.push([t / 1000, String(t / 1000)]);
    return answer([{ metric: A, values }]);
  };
  const range = { start: 3_600_000 + 7 * 15_000, end: 3_600_000 + 200 * 15_000, step: 15_000 };
  const request = { keyPrefix: 'test:', layout: layoutOf(range), range, deadline: Date.now() + 3_600_000, compressStored: true };

  it('computes the request alone, and stores nothing, when the widened query fails', async () => {
    const backend = new MemoryBackend();
    const cache = new ResultsCache({ backend, now: () => 10 ** 13 });
    const asked: { start: number; end: number }[] = [];
    const use = unusedCache();
    const body = await cache.answer(request, async (part) => {
      asked.push({ start: part.start, end: part.end });
      if (part.start < range.start || part.end > range.end) throw new Error('a step outside the request fails');
      return stepAnswer(part);
    }, use);
    expectPieces(body, stepAnswer(range));
    expect(asked.at(-1)).toEqual({ start: range.start, end: range.end });
    expect(backend.bytes).toBe(0);
  });

  it.each([true, false])('answers the same bytes from stored extents, then from stored and computed ones (points stored compressed: %s)', async (compressStored) => {
    const cache = new ResultsCache({ backend: new MemoryBackend(), now: () => 10 ** 13 });
    const compute = async (part: { start: number; end: number; step: number }) => stepAnswer(part);
    const cold = unusedCache();
    const computed = await cache.answer({ ...request, compressStored }, compute, cold);
    expectPieces(computed, stepAnswer(range));
    // The extents stored on the way give their part compressed once, for the entry and the answer alike.
    expect(computed!.some((p) => p.deflated !== null)).toBe(compressStored);
    const warm = unusedCache();
    const stored = await cache.answer(request, async () => { throw new Error('nothing to compute'); }, warm);
    expectPieces(stored, stepAnswer(range));
    expect(stored!.some((p) => p.deflated !== null)).toBe(compressStored);
    expect([cold.outcome, warm.outcome]).toEqual(['miss', 'hit']);
    const moved = { ...range, start: range.start + 100 * 15_000, end: range.end + 100 * 15_000 };
    const partial = unusedCache();
    const answered = await cache.answer({ ...request, layout: layoutOf(moved), range: moved }, compute, partial);
    expectPieces(answered, stepAnswer(moved));
    expect(partial.outcome).toBe('partial');
  });
});

/** The pieces make `expected`, as they are and as the gzip member sent to clients that take gzip. */
function expectPieces(pieces: AnswerPiece[] | null, expected: Buffer): void {
  expect(pieces).not.toBeNull();
  expect(Buffer.concat(bytesOf(pieces!)).equals(expected)).toBe(true);
  expect(gunzipSync(gzipMember(pieces!)!).equals(expected)).toBe(true);
}

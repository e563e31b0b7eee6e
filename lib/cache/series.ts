// A range query's answer as the cache handles it: series of bytes (the label set as the answer wrote
// it, the points as the answer wrote them), cut by time and put together again without ever decoding
// a sample. The cache works on answers the router produced, whatever path produced them (a collector's
// answer streamed with the shard label added, a union of shards' answers, the router's own engine), so
// an assembled answer has every series and point exactly as computing the whole range writes them.
import { AnswerShapeError, JsonSyntaxError, scanAnswer } from '../collectors/json-scan.ts';
import { compareLabelSets, sortedLabels, type LabelSet } from '../labelsets.ts';
import type { StepRange } from './extents.ts';

export interface SeriesBytes {
  /** The label set, keys sorted, as JSON: the same series in another piece has the same key. */
  readonly key: string;
  /** The `metric` object as the answer wrote it. */
  readonly metric: Buffer;
  /** The points, `[t,"v"],[t,"v"]`: the inside of the `values` list, in time order. */
  readonly points: Buffer;
  /**
   * The same points compressed once (gzip.ts), for the answers sent gzipped: kept with a stored
   * extent's points while they are whole; null where they were cut or just computed.
   */
  readonly deflated: Buffer | null;
}

/** A piece of an assembled answer: its bytes, and the same bytes compressed where that is at hand. */
export interface AnswerPiece {
  readonly bytes: Buffer;
  readonly deflated: Buffer | null;
}

/** The bytes of an assembled answer, piece by piece. */
export const bytesOf = (pieces: readonly AnswerPiece[]): Buffer[] => pieces.map((p) => p.bytes);

const HEAD = '{"status":"success","data":{"resultType":"matrix","result":[';

/**
 * The series of a success answer of resultType matrix, or null where the answer is anything the cache
 * must not take apart: warnings or infos (a partial answer), another result type, native histograms,
 * or any spelling other than the compact one that `assemble` writes (then the pieces would not put
 * together into the bytes computing the whole range gives). The check is the strictest there is: the
 * answer rebuilt from its pieces must be the answer, byte for byte.
 */
export function splitAnswer(body: Buffer): SeriesBytes[] | null {
  let scanned;
  try {
    scanned = scanAnswer(body, '');
  } catch (err) {
    if (err instanceof JsonSyntaxError || err instanceof AnswerShapeError) return null;
    throw err;
  }
  if (scanned.status !== 'success' || scanned.resultType !== 'matrix' || scanned.warnings.length > 0 || scanned.infos.length > 0) return null;
  const series: SeriesBytes[] = [];
  for (const s of scanned.series) {
    // A series without points would join as `[,` with its next piece: no Prometheus writes one.
    if (s.samples === null || !s.compact || s.samples.to - s.samples.from <= 2) return null;
    const metric = body.subarray(s.metric.from, s.metric.to);
    series.push({ key: labelKey(metric), metric, points: body.subarray(s.samples.from + 1, s.samples.to - 1), deflated: null });
  }
  const rebuilt = Buffer.concat(bytesOf(writeAnswer(series.map((x) => ({ metric: x.metric, points: [x] })))));
  return rebuilt.equals(body) ? series : null;
}

function labelKey(metric: Buffer): string {
  return JSON.stringify(sortedLabels(JSON.parse(metric.toString('utf8')) as LabelSet));
}

/** The points of `points` (in time order) with timestamps in [from, to], as a view of the same bytes. */
export function pointsWithin(points: Buffer, from: number, to: number): Buffer {
  const first = firstPoint(points, (t) => t >= from);
  const end = firstPoint(points, (t) => t > to);
  // `end` starts the first point after the window (or is the end): the comma before it is left out.
  return first >= end ? EMPTY : points.subarray(first, end === points.length ? end : end - 1);
}

/**
 * The offset of the first point whose timestamp passes `reached` (which, in time order, once true
 * stays true), or the length: a binary search over the bytes, so that cutting an extent to a window
 * parses a few timestamps, not every point's. Compact pairs `[<number>,"<value>"]` (splitAnswer
 * checked the spelling): a value holds no `[` or `]`, so every `[` starts a point.
 */
function firstPoint(points: Buffer, reached: (t: number) => boolean): number {
  let lo = 0; // a point's start; every point before it has not reached
  let hi = points.length; // a point's start or the end; the point there (if any) has reached
  while (lo < hi) {
    const half = (lo + hi) >>> 1;
    let mid = points.indexOf(0x5b, half);
    // No point starts in the upper half: the last one starting in the lower half (lo at the least).
    if (mid < 0 || mid >= hi) mid = Math.max(lo, points.lastIndexOf(0x5b, half));
    if (reached(timeAt(points, mid))) hi = mid;
    else lo = points.indexOf(0x5d, mid) + 2; // past `],`; past the end for the last point
  }
  return Math.min(hi, points.length);
}

/** The timestamp (ms) of the point starting at `at`. */
function timeAt(points: Buffer, at: number): number {
  return Math.round(Number(points.toString('latin1', at + 1, points.indexOf(0x2c, at))) * 1000);
}

const EMPTY = Buffer.alloc(0);

/**
 * The series of `series` restricted to the grid timestamps of `range`; series left without points go.
 * Points left whole keep their compressed form.
 */
export function seriesWithin(series: readonly SeriesBytes[], range: StepRange): SeriesBytes[] {
  const out: SeriesBytes[] = [];
  for (const s of series) {
    const points = pointsWithin(s.points, range.start, range.end);
    if (points.length === s.points.length) out.push(s);
    else if (points.length > 0) out.push({ ...s, points, deflated: null });
  }
  return out;
}

/**
 * One answer from pieces covering consecutive, disjoint parts of the grid, in time order: each series'
 * points joined across pieces, the series in Prometheus's order for range query answers (labels.Compare
 * over the sorted label set, as the global Prometheus sorts its matrix).
 */
export function assemble(pieces: readonly (readonly SeriesBytes[])[]): AnswerPiece[] {
  const joined = new Map<string, { metric: Buffer; labels: LabelSet; points: SeriesBytes[] }>();
  for (const piece of pieces) {
    for (const s of piece) {
      const entry = joined.get(s.key);
      if (entry === undefined) joined.set(s.key, { metric: s.metric, labels: JSON.parse(s.key) as LabelSet, points: [s] });
      else entry.points.push(s);
    }
  }
  const sorted = [...joined.values()].sort((a, b) => compareLabelSets(a.labels, b.labels));
  return writeAnswer(sorted);
}

const plain = (text: string): AnswerPiece => ({ bytes: Buffer.from(text), deflated: null });
const COMMA = plain(',');
const SERIES_OPEN = plain('{"metric":');
const VALUES = plain(',"values":[');
const SERIES_CLOSE = plain(']}');

/**
 * Prometheus's compact success envelope of a matrix, as pieces of bytes: each series' points given in
 * parts (consecutive, comma-joined), so that pieces of stored extents are written as they are, never
 * copied into a series of their own first.
 */
function writeAnswer(series: readonly { readonly metric: Buffer; readonly points: readonly Pick<SeriesBytes, 'points' | 'deflated'>[] }[]): AnswerPiece[] {
  const out: AnswerPiece[] = [plain(HEAD)];
  series.forEach((s, i) => {
    if (i > 0) out.push(COMMA);
    out.push(SERIES_OPEN, { bytes: s.metric, deflated: null }, VALUES);
    s.points.forEach((p, j) => {
      if (j > 0) out.push(COMMA);
      out.push({ bytes: p.points, deflated: p.deflated });
    });
    out.push(SERIES_CLOSE);
  });
  out.push(plain(']}}'));
  return out;
}

// One stored extent as bytes, the same for every backend: a header line (format, the entry's own key,
// the length of each series' parts, a digest of the rest) and the series' bytes; each series' points
// are also held compressed (gzip.ts) when the request that stored them took gzip, so that no answer
// built from them compresses them again. A value that is not
// one of ours, was cut short, or belongs to another key (a garbled store, a stray write) fails the
// check and counts as a miss: a cache may lose an answer, never change one.
import { createHash } from 'node:crypto';
import type { SeriesBytes } from './series.ts';

const MAGIC = 'prome-route-extent-2\n';

interface Header {
  readonly key: string;
  /** [key length, metric length, points length, compressed points length (0: none)] per series, in bytes. */
  readonly sizes: readonly (readonly [number, number, number, number])[];
  readonly sha256: string;
}

/**
 * The entry of `series`, with each series' compressed points where it has them; a series without has
 * a compressed length of 0 (no DEFLATE piece is empty), read back as null.
 */
export function encodeEntry(key: string, series: readonly SeriesBytes[]): Buffer {
  const parts: Buffer[] = [];
  const sizes: [number, number, number, number][] = [];
  for (const s of series) {
    const labelKey = Buffer.from(s.key);
    const deflated = s.deflated ?? NOT_COMPRESSED;
    parts.push(labelKey, s.metric, s.points, deflated);
    sizes.push([labelKey.length, s.metric.length, s.points.length, deflated.length]);
  }
  const body = Buffer.concat(parts);
  const header: Header = { key, sizes, sha256: digest(body) };
  return Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`), body]);
}

/**
 * The memory a decoded entry holds beyond the stored bytes it views: per series, its object, the three
 * Buffer views and the label key's string (Node 20's heap after a GC held 494 bytes per series with
 * keys of 119 characters: 375 and the key's length; counted with some margin).
 */
export function decodedBytes(series: readonly SeriesBytes[] | null): number {
  let bytes = 0;
  for (const s of series ?? []) bytes += SERIES_OVERHEAD_BYTES + s.key.length;
  return bytes;
}

const SERIES_OVERHEAD_BYTES = 400;

/** The series stored under `key`, or null for anything that is not an intact entry for that key. */
export function decodeEntry(key: string, value: Buffer): SeriesBytes[] | null {
  if (value.length < MAGIC.length || value.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const newline = value.indexOf(0x0a, MAGIC.length);
  if (newline < 0) return null;
  let header: Header;
  try {
    header = JSON.parse(value.toString('utf8', MAGIC.length, newline)) as Header;
  } catch {
    return null;
  }
  if (header === null || typeof header !== 'object' || header.key !== key || !Array.isArray(header.sizes)) return null;
  const body = value.subarray(newline + 1);
  if (digest(body) !== header.sha256) return null;
  const series: SeriesBytes[] = [];
  let at = 0;
  for (const sizes of header.sizes) {
    if (!Array.isArray(sizes) || sizes.length !== 4 || !sizes.every((n) => Number.isSafeInteger(n) && n >= 0)) return null;
    const [k, m, p, d] = sizes;
    if (at + k + m + p + d > body.length) return null;
    series.push({
      key: body.toString('utf8', at, at + k),
      metric: body.subarray(at + k, at + k + m),
      points: body.subarray(at + k + m, at + k + m + p),
      deflated: d === 0 ? null : body.subarray(at + k + m + p, at + k + m + p + d),
    });
    at += k + m + p + d;
  }
  return at === body.length ? series : null;
}

const NOT_COMPRESSED = Buffer.alloc(0);

function digest(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

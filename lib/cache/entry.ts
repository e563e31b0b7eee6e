// One stored extent as bytes, the same for every backend: a header line (format, the entry's own key,
// the length of each series' parts, a digest of the rest) and the series' bytes. A value that is not
// one of ours, was cut short, or belongs to another key (a garbled store, a stray write) fails the
// check and counts as a miss: a cache may lose an answer, never change one.
import { createHash } from 'node:crypto';
import type { SeriesBytes } from './series.ts';

const MAGIC = 'prome-route-extent-1\n';

interface Header {
  readonly key: string;
  /** [key length, metric length, points length] per series, in bytes. */
  readonly sizes: readonly (readonly [number, number, number])[];
  readonly sha256: string;
}

export function encodeEntry(key: string, series: readonly SeriesBytes[]): Buffer {
  const parts: Buffer[] = [];
  const sizes: [number, number, number][] = [];
  for (const s of series) {
    const labelKey = Buffer.from(s.key);
    parts.push(labelKey, s.metric, s.points);
    sizes.push([labelKey.length, s.metric.length, s.points.length]);
  }
  const body = Buffer.concat(parts);
  const header: Header = { key, sizes, sha256: digest(body) };
  return Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`), body]);
}

/**
 * Entries decoded before, by the stored value itself: the in-memory backend hands out the same Buffer
 * on every hit, so its extents are checked and split once, not on every request that reads them (a
 * dashboard refresh reads a dozen extents per panel). A backend that sends bytes (Redis) gives a new
 * Buffer each time, decoded afresh; the map holds nothing once the value is let go of.
 */
const decoded = new WeakMap<Buffer, { readonly key: string; readonly series: readonly SeriesBytes[] | null }>();

/** The series stored under `key`, or null for anything that is not an intact entry for that key. */
export function decodeEntry(key: string, value: Buffer): readonly SeriesBytes[] | null {
  const known = decoded.get(value);
  if (known !== undefined && known.key === key) return known.series;
  const series = decodeBytes(key, value);
  decoded.set(value, { key, series });
  return series;
}

function decodeBytes(key: string, value: Buffer): SeriesBytes[] | null {
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
    if (!Array.isArray(sizes) || sizes.length !== 3 || !sizes.every((n) => Number.isSafeInteger(n) && n >= 0)) return null;
    const [k, m, p] = sizes;
    if (at + k + m + p > body.length) return null;
    series.push({
      key: body.toString('utf8', at, at + k),
      metric: body.subarray(at + k, at + k + m),
      points: body.subarray(at + k + m, at + k + m + p),
    });
    at += k + m + p;
  }
  return at === body.length ? series : null;
}

function digest(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

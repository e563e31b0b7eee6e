// Prometheus remote write (protocol 1.0: a snappy-compressed protobuf WriteRequest), for the one kind
// of sample promtool cannot backfill: the staleness marker. Prometheus recognises staleness by the
// exact bits of its marker NaN (0x7ff0000000000002); OpenMetrics text has only the ordinary NaN, but
// remote write carries each value as a raw IEEE-754 double, so the marker arrives intact.
//
// Only the encoder side, and only what a WriteRequest of float samples needs: field tags, varints,
// little-endian doubles, and snappy's block format written as literals only (valid snappy, no
// compression; the requests are a few kilobytes).
import type { StoredSeries } from './cases.ts';

/** Prometheus's staleness marker (model/value.StaleNaN) as its two 32-bit halves. */
const STALE_NAN_HIGH = 0x7ff00000;
const STALE_NAN_LOW = 0x00000002;

class Writer {
  private bytes: number[] = [];

  varint(n: number): this {
    let v = n;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
    return this;
  }

  /** A length-delimited field (wire type 2). */
  field(number: number, content: Uint8Array): this {
    this.varint((number << 3) | 2).varint(content.length);
    for (const b of content) this.bytes.push(b);
    return this;
  }

  string(number: number, s: string): this {
    return this.field(number, new TextEncoder().encode(s));
  }

  /** A double field (wire type 1), from its two 32-bit halves so NaN payloads survive. */
  double(number: number, high: number, low: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, low, true);
    view.setUint32(4, high, true);
    this.varint((number << 3) | 1);
    for (const b of new Uint8Array(view.buffer)) this.bytes.push(b);
    return this;
  }

  /** A varint field (wire type 0). */
  uint(number: number, n: number): this {
    return this.varint(number << 3).varint(n);
  }

  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function halves(v: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v, true);
  return [view.getUint32(4, true), view.getUint32(0, true)];
}

/** The WriteRequest protobuf of float series (timestamps must be ms ≥ 0, in order per series). */
export function encodeWriteRequest(series: readonly StoredSeries[]): Uint8Array {
  const request = new Writer();
  for (const s of series) {
    const ts = new Writer();
    // Prometheus expects the labels of a series sorted by name.
    for (const name of Object.keys(s.labels).sort()) ts.field(1, new Writer().string(1, name).string(2, s.labels[name]!).done());
    for (const { t, value } of s.samples) {
      if (typeof value === 'object') throw new Error('histogram samples are not supported by this encoder');
      const [high, low] = value === 'stale' ? [STALE_NAN_HIGH, STALE_NAN_LOW] : halves(value);
      ts.field(2, new Writer().double(1, high, low).uint(2, t).done());
    }
    request.field(1, ts.done());
  }
  return request.done();
}

/** Snappy's block format with literal elements only: uncompressed length, then 64 KiB literals. */
export function snappyLiterals(data: Uint8Array): Uint8Array {
  const out = new Writer().varint(data.length).done();
  const parts: Uint8Array[] = [out];
  for (let at = 0; at < data.length; at += 0x10000) {
    const chunk = data.subarray(at, at + 0x10000);
    // Tag 61 << 2: a literal whose length - 1 follows in two little-endian bytes.
    parts.push(Uint8Array.of(61 << 2, (chunk.length - 1) & 0xff, (chunk.length - 1) >> 8), chunk);
  }
  const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    total.set(p, offset);
    offset += p.length;
  }
  return total;
}

/** Sends the series to a Prometheus started with `--web.enable-remote-write-receiver`. */
export async function remoteWrite(baseUrl: string, series: readonly StoredSeries[]): Promise<void> {
  if (series.length === 0) return;
  const response = await fetch(`${baseUrl}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body: Buffer.from(snappyLiterals(encodeWriteRequest(series))),
  });
  if (!response.ok) throw new Error(`remote write to ${baseUrl}: HTTP ${response.status} ${await response.text()}`);
}

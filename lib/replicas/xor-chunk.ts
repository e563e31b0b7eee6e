// Prometheus's XOR chunk encoding (tsdb/chunkenc/xor.go, after Facebook's Gorilla paper), the float
// samples of one series as STREAMED_XOR_CHUNKS remote read sends them. No package on npm decodes it.
//
// Layout: a big-endian uint16 sample count, then a bit stream (most significant bit first):
//   sample 0: timestamp as a signed varint, value as its 64 raw bits;
//   sample 1: timestamp delta as an unsigned varint, value as an XOR delta (below);
//   sample 2+: delta of the timestamp delta in a prefix code: 0 (no change), 10 + 14 bits, 110 + 17
//     bits, 1110 + 20 bits, 1111 + 64 bits; the n-bit values are two's complement except that the
//     range runs from -(2^(n-1) - 1) to +2^(n-1) (`bitRange` in xor.go); then the value's XOR delta.
// Value XOR delta against the previous value's bits: 0 (same value); 10 + the meaningful bits with
// the previous leading/trailing zero counts; 11 + 5 bits of leading zeros + 6 bits of meaningful bit
// count (0 meaning 64) + the meaningful bits. The varints lie on byte boundaries: they come before
// the first bit that is not a whole byte.
//
// Values are handled as two 32-bit halves: a JavaScript number holds no 64-bit integer, and writing
// the bits through a Uint32Array view keeps NaN payloads (the staleness marker) as they are.
import { PbfReader } from 'pbf';

/** A growing series of samples: timestamps (epoch ms) and values, as dedup.ts reads them. */
export class SampleBuffer {
  timestamps = new Float64Array(0);
  values = new Float64Array(0);
  /** The values' bits: [2i] the low half of value i, [2i + 1] the high half (little-endian, as isStaleMarker reads them). */
  private words = new Uint32Array(0);
  length = 0;

  /** Makes room for `more` samples. */
  reserve(more: number): void {
    const needed = this.length + more;
    if (needed <= this.timestamps.length) return;
    const capacity = Math.max(needed, this.timestamps.length * 2);
    const timestamps = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    timestamps.set(this.timestamps.subarray(0, this.length));
    values.set(this.values.subarray(0, this.length));
    [this.timestamps, this.values, this.words] = [timestamps, values, new Uint32Array(values.buffer)];
  }

  push(t: number, high: number, low: number): void {
    this.timestamps[this.length] = t;
    this.words[2 * this.length] = low;
    this.words[2 * this.length + 1] = high;
    this.length++;
  }

  /** The samples as exactly sized arrays. */
  done(): { timestamps: Float64Array; values: Float64Array } {
    return { timestamps: this.timestamps.slice(0, this.length), values: this.values.slice(0, this.length) };
  }
}

export class ChunkDecodeError extends Error {}

/** The number of samples an XOR chunk says it holds. */
export function xorSampleCount(data: Uint8Array): number {
  if (data.length < 2) throw new ChunkDecodeError(`an XOR chunk of ${data.length} bytes has no header`);
  return (data[0]! << 8) | data[1]!;
}

/**
 * Appends the samples of XOR chunk `data` whose timestamps lie in [from, to] to `out` (which must have
 * room for xorSampleCount(data) more). A chunk that ends before its last sample is an error.
 */
export function appendXorChunk(data: Uint8Array, out: SampleBuffer, from: number, to: number): void {
  const count = xorSampleCount(data);
  let bit = 16; // position in the stream, in bits from the chunk's start
  const end = data.length * 8;
  const truncated = () => new ChunkDecodeError(`an XOR chunk of ${data.length} bytes ends before its ${count} samples do`);

  /** The next n bits (n <= 32) as an unsigned number. */
  const read = (n: number): number => {
    if (bit + n > end) throw truncated();
    let v = 0;
    while (n > 0) {
      const free = 8 - (bit & 7); // bits left in the current byte
      const take = free < n ? free : n;
      v = v * (1 << take) + ((data[bit >>> 3]! >>> (free - take)) & ((1 << take) - 1));
      bit += take;
      n -= take;
    }
    return v;
  };
  /**
   * A varint, read with pbf: the two that occur (the first two samples' timestamps) begin on a byte
   * boundary. As a number: timestamps stay far below 2^53.
   */
  const varint = (signed: boolean): number => {
    const pbf = new PbfReader(data);
    pbf.pos = bit >>> 3;
    const v = signed ? pbf.readSVarint() : pbf.readVarint();
    bit = pbf.pos * 8;
    if (bit > end) throw truncated();
    return v;
  };
  let t = 0;
  let delta = 0;
  let high = 0;
  let low = 0;
  let leading = 0;
  let trailing = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      t = varint(true);
      high = read(32);
      low = read(32);
    } else {
      if (i === 1) {
        delta = varint(false);
      } else {
        let prefix = 0; // the number of 1 bits before a 0, at most 4
        while (prefix < 4 && read(1) === 1) prefix++;
        if (prefix === 4) {
          const hi = read(32) | 0; // two's complement: the high half carries the sign
          delta += hi * 2 ** 32 + read(32);
        } else if (prefix > 0) {
          const size = prefix === 1 ? 14 : prefix === 2 ? 17 : 20;
          const bits = read(size);
          delta += bits > 2 ** (size - 1) ? bits - 2 ** size : bits;
        }
      }
      t += delta;
      if (read(1) === 1) {
        if (read(1) === 1) {
          leading = read(5);
          const meaningful = read(6) || 64;
          trailing = 64 - leading - meaningful;
          if (trailing < 0) throw new ChunkDecodeError(`an XOR chunk holds a value delta of ${leading} leading zeros and ${meaningful} meaningful bits`);
        }
        // The meaningful bits, as a 64-bit number's halves, moved into place and XORed in.
        const meaningful = 64 - leading - trailing;
        let hi = meaningful > 32 ? read(meaningful - 32) : 0;
        let lo = read(meaningful > 32 ? 32 : meaningful);
        if (trailing >= 32) [hi, lo] = [lo << (trailing - 32), 0];
        else if (trailing > 0) [hi, lo] = [(hi << trailing) | (lo >>> (32 - trailing)), lo << trailing];
        high = (high ^ hi) >>> 0;
        low = (low ^ lo) >>> 0;
      }
    }
    if (t >= from && t <= to) out.push(t, high, low);
  }
}

// Answers sent gzipped from compressed and plain pieces (lib/cache/gzip.ts): whatever the pieces, the
// member decompresses (with zlib's own reader, which checks the CRC and the length) to the plain bytes.
import { crc32 as zlibCrc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { COMPRESSED_RUN_BYTES, crc32Sliced, deflatePoints, gzipMember, MAX_INLINE_COMPRESSION_BYTES } from '../../lib/cache/gzip.ts';
import type { AnswerPiece } from '../../lib/cache/series.ts';

/** A deterministic stream of numbers (xorshift), so failures repeat. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function points(next: () => number, count: number): Buffer {
  return Buffer.from(Array.from({ length: count }, (_, i) => `[${1_700_000_000 + i * 15},"${(next() * 1e6).toFixed(Math.floor(next() * 6))}"]`).join(','));
}

function piece(next: () => number): AnswerPiece {
  const kind = next();
  if (kind < 0.1) return { bytes: Buffer.alloc(0), deflated: null };
  if (kind < 0.4) return { bytes: Buffer.from(','), deflated: null };
  const bytes = points(next, 1 + Math.floor(next() * 120));
  return { bytes, deflated: kind < 0.8 ? deflatePoints(bytes) : null };
}

const gunzipped = (pieces: readonly AnswerPiece[]) => gunzipSync(gzipMember(pieces)!);

describe('gzipMember', () => {
  it('decompresses to the plain bytes, for random mixes of compressed, plain and empty pieces', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const pieces = Array.from({ length: Math.floor(next() * 40) }, () => piece(next));
      expect(gunzipped(pieces).equals(Buffer.concat(pieces.map((p) => p.bytes))), `seed ${seed}`).toBe(true);
    }
  });

  it('holds runs of plain bytes of every length around the compression threshold and past zlib\'s 64 KiB', () => {
    const next = random(7);
    const text = points(next, 20_000);
    expect(text.length).toBeGreaterThan(0x10000 * 2);
    for (const length of [1, COMPRESSED_RUN_BYTES - 1, COMPRESSED_RUN_BYTES, 0xffff, 0x10000, 0x10001, text.length]) {
      const plain = text.subarray(0, length);
      // One run of many small pieces, and one piece.
      const split = Array.from({ length: Math.ceil(length / 1000) }, (_, i) => ({ bytes: plain.subarray(i * 1000, (i + 1) * 1000), deflated: null }));
      expect(gunzipped(split).equals(plain), `${length} bytes in pieces`).toBe(true);
      expect(gunzipped([{ bytes: plain, deflated: null }]).equals(plain), `${length} bytes whole`).toBe(true);
    }
  });

  it('no pieces make a valid member of nothing', () => {
    expect(gunzipped([]).length).toBe(0);
  });

  it('leaves an answer with more than MAX_INLINE_COMPRESSION_BYTES still to compress to the platform', () => {
    const plain = Buffer.alloc(MAX_INLINE_COMPRESSION_BYTES, 'x');
    expect(gzipMember([{ bytes: plain, deflated: null }])).not.toBeNull();
    expect(gzipMember([{ bytes: plain, deflated: null }, { bytes: Buffer.from(','), deflated: null }])).toBeNull();
    // Compressed pieces do not count: they cost nothing more to send.
    const stored = Buffer.from('x'.repeat(2 * MAX_INLINE_COMPRESSION_BYTES));
    expect(gzipMember([{ bytes: stored, deflated: deflatePoints(stored) }, { bytes: Buffer.from(','), deflated: null }])).not.toBeNull();
  });

  it('compresses a long plain run (an answer computed whole) and stores a short one', () => {
    const long = points(random(3), 2_000);
    expect(long.length).toBeGreaterThan(COMPRESSED_RUN_BYTES);
    expect(gzipMember([{ bytes: long, deflated: null }])!.length).toBeLessThan(long.length / 2);
    const short = Buffer.from('{"status":"success"}');
    expect(gzipMember([{ bytes: short, deflated: null }])!.length).toBe(10 + 5 + short.length + 5 + 8);
  });
});

describe('deflatePoints', () => {
  it('stands alone: inflates by itself, and ends on a byte boundary without a last block', () => {
    const bytes = points(random(11), 60);
    const deflated = deflatePoints(bytes);
    expect(inflateRawSync(Buffer.concat([deflated, Buffer.from([1, 0, 0, 0xff, 0xff])])).equals(bytes)).toBe(true);
    // A sync flush ends with an empty stored block: 00 00 ff ff after its header bits.
    expect(deflated.subarray(-4)).toEqual(Buffer.from([0, 0, 0xff, 0xff]));
    expect(deflated.length).toBeLessThan(bytes.length / 2);
  });
});

describe('crc32Sliced (for runtimes whose zlib has no crc32)', () => {
  it('equals zlib\'s CRC-32 on every length up to 64 bytes and on long inputs, continued across pieces', () => {
    const next = random(5);
    const bytes = Buffer.from(Array.from({ length: 100_000 }, () => Math.floor(next() * 256)));
    for (let n = 0; n <= 64; n++) expect(crc32Sliced(bytes.subarray(0, n)), `${n} bytes`).toBe(zlibCrc32(bytes.subarray(0, n)));
    expect(crc32Sliced(bytes)).toBe(zlibCrc32(bytes));
    let crc = 0;
    for (let at = 0; at < bytes.length; at += 777) crc = crc32Sliced(bytes.subarray(at, at + 777), crc);
    expect(crc).toBe(zlibCrc32(bytes));
  });
});

// Answers assembled from stored extents, sent gzipped without compressing them again. A gzip member
// (RFC 1952) is a header, one DEFLATE stream (RFC 1951) and the CRC-32 and length of what it holds. A
// DEFLATE stream is a run of blocks, and a block may stand alone: a piece compressed by a deflater of
// its own, ended with a sync flush (which leaves the output at a byte boundary, no block marked last),
// refers to nothing before it. So each stored extent's points are compressed once, when it is stored,
// and an answer is written as those compressed pieces, the bytes around them as stored (uncompressed)
// blocks, and an empty last block; the CRC is computed per answer, over the plain bytes, and only long
// runs of bytes without a compressed form (just computed) are compressed then.
import zlib from 'node:zlib';
import type { AnswerPiece, SeriesBytes } from './series.ts';

/**
 * Stored extents' points: compressed once and read many times, so at the best ratio; each piece is a
 * few kilobytes, which a 4 KiB window and a small hash table cover (zlib's set-up is most of a small
 * piece's cost, and these make it about a third cheaper).
 */
const POINTS_DEFLATE: zlib.ZlibOptions = {
  level: zlib.constants.Z_BEST_COMPRESSION,
  memLevel: 4,
  windowBits: 12,
  finishFlush: zlib.constants.Z_SYNC_FLUSH,
};

/** The points of a stored extent's series as DEFLATE blocks that stand alone (see above). */
export function deflatePoints(points: Buffer): Buffer {
  return zlib.deflateRawSync(points, POINTS_DEFLATE);
}

/** The series with their points compressed (where they are not yet), as stored extents hold them. */
export function withDeflatedPoints(series: readonly SeriesBytes[]): SeriesBytes[] {
  return series.map((s) => (s.deflated === null ? { ...s, deflated: deflatePoints(s.points) } : s));
}

/**
 * Bytes between compressed pieces are written as stored blocks, unless a run of them is at least this
 * long (an answer computed whole, the newest part of a live dashboard's series): that run is compressed
 * then, at the fastest level, as the platforms compress answers. Below a stored block's most (64 KiB).
 */
export const COMPRESSED_RUN_BYTES = 16 * 1024;

/** A stored block's header: one byte of block type, then LEN and NLEN (16 bits each). */
const STORED_BLOCK_HEADER_BYTES = 5;

/** ID1 ID2, CM = deflate, no flags, no time, XFL 0, OS unknown. */
const MEMBER_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** An empty stored block marked last: BFINAL = 1, BTYPE = 00, LEN = 0, NLEN = 0xffff. */
const LAST_BLOCK = Buffer.from([1, 0, 0, 0xff, 0xff]);

/**
 * An answer with more bytes than this still to compress (computed whole rather than read from stored
 * extents) is not compressed here, on the event loop and past the deadline's reach: the platform
 * compresses it as it streams, in batches through zlib's thread pool.
 */
export const MAX_INLINE_COMPRESSION_BYTES = 1024 * 1024;

/** Consecutive pieces without a compressed form: one stored block, or compressed now when long. */
interface PlainRun {
  readonly pieces: Buffer[];
  bytes: number;
  /** The run's bytes in one Buffer and compressed, for a run of COMPRESSED_RUN_BYTES or more. */
  compressed: { readonly plain: Buffer; readonly deflated: Buffer } | null;
}

/**
 * The answer's pieces as one gzip member, written into one Buffer (a cached answer is hundreds of
 * pieces, mostly a comma each: one allocation, not one per piece); null past MAX_INLINE_COMPRESSION_BYTES.
 */
export function gzipMember(pieces: readonly AnswerPiece[]): Buffer | null {
  let uncompressed = 0;
  for (const piece of pieces) if (piece.deflated === null) uncompressed += piece.bytes.length;
  if (uncompressed > MAX_INLINE_COMPRESSION_BYTES) return null;

  // The member's parts and its size first...
  const parts: (AnswerPiece | PlainRun)[] = [];
  let memberBytes = MEMBER_HEADER.length + LAST_BLOCK.length + 8;
  let plainBytes = 0;
  let run: PlainRun | null = null;
  const endRun = () => {
    if (run === null) return;
    if (run.bytes >= COMPRESSED_RUN_BYTES) {
      const plain = Buffer.concat(run.pieces, run.bytes);
      run.compressed = { plain, deflated: zlib.deflateRawSync(plain, { level: zlib.constants.Z_BEST_SPEED, finishFlush: zlib.constants.Z_SYNC_FLUSH }) };
      memberBytes += run.compressed.deflated.length;
    } else {
      memberBytes += STORED_BLOCK_HEADER_BYTES + run.bytes;
    }
    run = null;
  };
  for (const piece of pieces) {
    plainBytes += piece.bytes.length;
    if (piece.deflated !== null) {
      endRun();
      parts.push(piece);
      memberBytes += piece.deflated.length;
    } else if (piece.bytes.length > 0) {
      if (run === null) parts.push(run = { pieces: [], bytes: 0, compressed: null });
      run.pieces.push(piece.bytes);
      run.bytes += piece.bytes.length;
    }
  }
  endRun();

  // ...then written, the CRC-32 taken over the plain bytes in order (a stored run's once it is copied).
  const out = Buffer.allocUnsafe(memberBytes);
  let at = MEMBER_HEADER.copy(out, 0);
  let crc = 0;
  for (const part of parts) {
    if ('deflated' in part) {
      crc = crc32(part.bytes, crc);
      at += part.deflated!.copy(out, at);
    } else if (part.compressed !== null) {
      crc = crc32(part.compressed.plain, crc);
      at += part.compressed.deflated.copy(out, at);
    } else {
      // A stored block (BFINAL = 0, BTYPE = 00, the rest of the byte padding; LEN, NLEN): the run is
      // shorter than COMPRESSED_RUN_BYTES, so one block holds it.
      out[at] = 0;
      out.writeUInt16LE(part.bytes, at + 1);
      out.writeUInt16LE(~part.bytes & 0xffff, at + 3);
      const from = at + STORED_BLOCK_HEADER_BYTES;
      at = from;
      for (const bytes of part.pieces) at += bytes.copy(out, at);
      crc = crc32(out.subarray(from, at), crc);
    }
  }
  at += LAST_BLOCK.copy(out, at);
  out.writeUInt32LE(crc, at);
  out.writeUInt32LE(plainBytes % 2 ** 32, at + 4);
  return out;
}

/**
 * CRC-32 as gzip computes it, continued from `crc`. zlib's own (Node 20.15 and later: Lambda's
 * runtimes) runs at gigabytes a second; Function Compute's Node 20.10 has none, and gets the table
 * below, a few times slower.
 */
export const crc32: (bytes: Uint8Array, crc: number) => number = typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32Sliced;

/** Slicing-by-8 tables of the reflected polynomial 0xedb88320: table k maps a byte k positions further on. */
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = t[(k - 1) * 256 + n]! >>> 8 ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  }
  return t;
})();

/** CRC-32 eight bytes at a time (exported for its test against zlib's). */
export function crc32Sliced(bytes: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  for (const end = bytes.length - 7; i < end; i += 8) {
    const low = c ^ (bytes[i]! | bytes[i + 1]! << 8 | bytes[i + 2]! << 16 | bytes[i + 3]! << 24);
    c = t[7 * 256 + (low & 0xff)]! ^ t[6 * 256 + (low >>> 8 & 0xff)]! ^ t[5 * 256 + (low >>> 16 & 0xff)]! ^ t[4 * 256 + (low >>> 24)]!
      ^ t[3 * 256 + bytes[i + 4]!]! ^ t[2 * 256 + bytes[i + 5]!]! ^ t[256 + bytes[i + 6]!]! ^ t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ c >>> 8;
  return ~c >>> 0;
}

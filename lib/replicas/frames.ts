// The framing of Prometheus's streamed remote read answers (storage/remote/chunked.go): each message
// comes as a uvarint of its size, the big-endian CRC-32 (Castagnoli polynomial) of its bytes, and the
// bytes. Read as the answer arrives: a frame is handed on once whole and checked, so the router holds
// one frame and what it decoded, never the whole answer.
//
// No npm package reads Prometheus's framing. CRC-32C is computed here: Node has no Castagnoli CRC
// (zlib.crc32, from Node 22, is the IEEE one), and the maintained package (@aws-crypto/crc32c) brings
// eight packages and 6 KB minified (tslib's helpers, a literal table) for what a 256-entry table
// computed at start does in a few lines; checked against the standard check value and every frame of
// the tests' real Prometheus streams.
import { PbfReader } from 'pbf';

const CASTAGNOLI = 0x82f63b78; // the polynomial, bit-reversed
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI : c >>> 1;
  TABLE[n] = c;
}

export function crc32c(bytes: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** A uvarint takes at most 10 bytes, the checksum 4. */
const MAX_HEADER = 14;

/** A stream that is not a sequence of whole, intact frames. */
export class FrameError extends Error {}

export class FrameReader {
  /** The current frame's header bytes, while it is incomplete; then its size varint and checksum. */
  private readonly header = new Uint8Array(MAX_HEADER);
  private headerLength = 0;
  /** The current frame's message, once its header is read; `filled` bytes of it so far. */
  private message: Uint8Array | null = null;
  private filled = 0;
  private checksum = 0;

  /**
   * `admit(size)` is asked for each frame's size before its bytes are kept (it throws to refuse);
   * `onFrame` gets each intact message, a view valid only during the call.
   */
  constructor(private readonly admit: (size: number) => void, private readonly onFrame: (message: Uint8Array) => void) {}

  /** The next bytes of the stream. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.message === null) {
        this.header[this.headerLength++] = chunk[i++]!;
        const sizeLength = this.header.subarray(0, Math.min(this.headerLength, 10)).findIndex((b) => b < 0x80) + 1;
        if (sizeLength === 0 && this.headerLength >= 10) throw new FrameError(`a frame's size is not a varint${this.asText(this.header)}`);
        if (sizeLength === 0 || this.headerLength < sizeLength + 4) continue;
        const size = new PbfReader(this.header.subarray(0, sizeLength)).readVarint();
        this.admit(size);
        this.checksum = new DataView(this.header.buffer).getUint32(sizeLength);
        // A frame wholly inside this chunk is read where it lies, without a copy.
        if (chunk.length - i >= size) {
          this.check(chunk.subarray(i, i + size));
          i += size;
          continue;
        }
        this.message = new Uint8Array(size);
        this.filled = 0;
      }
      const n = Math.min(this.message.length - this.filled, chunk.length - i);
      this.message.set(chunk.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled === this.message.length) {
        const message = this.message;
        this.message = null;
        this.check(message);
      }
    }
  }

  /** The stream has ended: it must not end inside a frame. */
  end(): void {
    if (this.message !== null) {
      throw new FrameError(`the stream ends ${this.filled} bytes into a frame of ${this.message.length}${this.asText(this.header.subarray(0, this.headerLength), this.message.subarray(0, this.filled))}`);
    }
    if (this.headerLength > 0) throw new FrameError(`the stream ends inside a frame's header${this.asText(this.header.subarray(0, this.headerLength))}`);
  }

  private check(message: Uint8Array): void {
    const header = this.header.subarray(0, this.headerLength);
    this.headerLength = 0;
    if (crc32c(message) !== this.checksum) throw new FrameError(`a frame of ${message.length} bytes fails its checksum${this.asText(header, message)}`);
    this.onFrame(message);
  }

  /**
   * Prometheus reports an error met after the answer has begun by writing its text into the stream
   * (http.Error): where the bytes of a broken frame are text, they are shown.
   */
  private asText(...parts: Uint8Array[]): string {
    const text = Buffer.concat(parts).toString('latin1');
    return /^[\t\n\r\x20-\x7e]+$/.test(text) ? `: ${JSON.stringify(text.trim().slice(0, 300))}` : '';
  }
}

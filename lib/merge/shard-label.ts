// Adds the shard label to every series of a collector's query answer as the bytes go through,
// without parsing the answer into objects: large query_range answers are the common case.
//
// In Prometheus's JSON a series is `{"metric":{...},"value(s)":...}`. The bytes `"metric":{` cannot
// occur inside a JSON string (a quote inside a string is always escaped as \"), and no other key of a
// query answer has that name, so each occurrence opens exactly one series' label set.

import type { ChunkEditor } from '../collectors/checked-body.ts';

const OPENING = Buffer.from('"metric":{');
const CLOSING_BRACE = 0x7d;
/** Chunks shorter than this are joined to what was held back instead of searched at the seam. */
const SMALL_CHUNK = 64;

/** Inserts `"<label>":"<value>"` into each label set, over chunks in order. */
export class LabelInserter implements ChunkEditor {
  private readonly pair: Buffer;
  private readonly pairAndComma: Buffer;
  /** The end of the previous chunk that may begin an opening split across chunks. */
  private held = Buffer.alloc(0);

  constructor(label: string, value: string) {
    this.pair = Buffer.from(`${JSON.stringify(label)}:${JSON.stringify(value)}`);
    this.pairAndComma = Buffer.concat([this.pair, Buffer.from(',')]);
  }

  /**
   * The output for one more chunk of input: views of the chunk with the label pair between them, no
   * copies (a large answer would otherwise leave as much garbage again as it is long).
   */
  push(chunk: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    let buf = chunk;
    let from = 0;
    if (this.held.length > 0 && chunk.length < SMALL_CHUNK) {
      buf = Buffer.concat([this.held, chunk]);
    } else if (this.held.length > 0) {
      // An opening that starts in the held bytes ends within the chunk's first OPENING.length + 1.
      const seam = Buffer.concat([this.held, chunk.subarray(0, OPENING.length + 1)]);
      const at = seam.indexOf(OPENING);
      if (at !== -1 && at < this.held.length) {
        const end = at + OPENING.length;
        pieces.push(seam.subarray(0, end), this.insertion(seam[end]!));
        from = end - this.held.length;
      } else {
        pieces.push(this.held);
      }
    }
    this.held = Buffer.alloc(0);
    let at = buf.indexOf(OPENING, from);
    // A match is only complete once the byte after `{` is known: `}` (no labels) takes no comma.
    while (at !== -1 && at + OPENING.length < buf.length) {
      const end = at + OPENING.length;
      pieces.push(buf.subarray(from, end), this.insertion(buf[end]!));
      from = end;
      at = buf.indexOf(OPENING, from);
    }
    const keep = at !== -1 ? at : Math.max(from, buf.length - OPENING.length);
    if (keep > from) pieces.push(buf.subarray(from, keep));
    this.held = Buffer.from(buf.subarray(keep));
    return pieces;
  }

  /** What is still held back at the end of the input. */
  end(): Buffer {
    return this.held;
  }

  private insertion(next: number): Buffer {
    return next === CLOSING_BRACE ? this.pair : this.pairAndComma;
  }
}

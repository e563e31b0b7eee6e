// Adds the shard label to every series of a collector's query answer as the bytes stream through,
// without parsing the answer into objects: large query_range answers are the common case.
//
// In Prometheus's JSON a series is `{"metric":{...},"value(s)":...}`. The bytes `"metric":{` cannot
// occur inside a JSON string (a quote inside a string is always escaped as \"), and no other key of a
// query answer has that name, so each occurrence opens exactly one series' label set.

const OPENING = Buffer.from('"metric":{');
const CLOSING_BRACE = 0x7d;

export function insertShardLabel(
  body: ReadableStream<Uint8Array>,
  label: string,
  value: string,
): ReadableStream<Uint8Array> {
  const pair = Buffer.from(`${JSON.stringify(label)}:${JSON.stringify(value)}`);
  const pairAndComma = Buffer.concat([pair, Buffer.from(',')]);
  let carry = Buffer.alloc(0);

  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const buf = carry.length === 0 ? input : Buffer.concat([carry, input]);
      let start = 0;
      let at = buf.indexOf(OPENING, start);
      // A match is only complete once the byte after `{` is known: `}` (no labels) takes no comma.
      while (at !== -1 && at + OPENING.length < buf.length) {
        const end = at + OPENING.length;
        controller.enqueue(buf.subarray(start, end));
        controller.enqueue(buf[end] === CLOSING_BRACE ? pair : pairAndComma);
        start = end;
        at = buf.indexOf(OPENING, start);
      }
      // Keep back what could be the start of an opening split across chunks.
      const keep = at !== -1 ? at : Math.max(start, buf.length - OPENING.length);
      if (keep > start) controller.enqueue(buf.subarray(start, keep));
      carry = Buffer.from(buf.subarray(keep));
    },
    flush(controller) {
      if (carry.length > 0) controller.enqueue(carry);
    },
  }));
}

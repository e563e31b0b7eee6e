// A collector's answer is streamed to the caller, which means the status line is sent before the
// body has arrived. Most answers are small: those are read whole first and checked, so a collector
// that breaks off or sends garbage gets a proper error naming the shard instead of a broken 200.
// Larger answers stream after their first CHECKED_PREFIX bytes; a failure after that point aborts
// the response, which clients report as a failed request.
import { Readable } from 'node:stream';
import { ApiError } from '../api/envelope.ts';
import type { CollectorAnswer } from './http.ts';

export const CHECKED_PREFIX = 256 * 1024;

/** The whole body if it fits in CHECKED_PREFIX bytes (checked), else a stream of it. */
export async function checkedBody(shard: string, answer: CollectorAnswer): Promise<Buffer | ReadableStream<Uint8Array>> {
  const head: Buffer[] = [];
  let size = 0;
  const chunks = answer.body[Symbol.asyncIterator]();
  let done = false;
  try {
    while (size <= CHECKED_PREFIX) {
      const next = await chunks.next();
      if (next.done === true) {
        done = true;
        break;
      }
      head.push(next.value as Buffer);
      size += (next.value as Buffer).byteLength;
    }
  } catch (err) {
    throw new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector broke off its answer (${(err as Error).message})`);
  }
  if (done) {
    const whole = Buffer.concat(head);
    try {
      JSON.parse(whole.toString('utf8'));
    } catch (err) {
      throw new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector answered invalid JSON (${(err as Error).message})`);
    }
    return whole;
  }
  async function* rest() {
    yield* head;
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) yield next.value as Buffer;
  }
  return Readable.toWeb(Readable.from(rest())) as ReadableStream<Uint8Array>;
}

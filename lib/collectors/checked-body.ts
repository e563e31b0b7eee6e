// A collector's answer is streamed to the caller, which means the status line is sent before the
// body has arrived. Most answers are small: those are read whole first and checked, so a collector
// that breaks off or sends garbage gets a proper error naming the shard instead of a broken 200.
// Larger answers stream after their first CHECKED_PREFIX bytes; a failure after that point aborts
// the response, which clients report as a failed request.
import { ApiError } from '../api/envelope.ts';

export const CHECKED_PREFIX = 256 * 1024;

/** The collector's body as a stream, after checking it if it fits in CHECKED_PREFIX bytes. */
export async function checkedBody(shard: string, response: Response): Promise<ReadableStream<Uint8Array>> {
  const reader = response.body?.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  let done = reader === undefined;
  try {
    while (!done && size <= CHECKED_PREFIX) {
      const next = await reader!.read();
      done = next.done;
      if (next.value !== undefined) {
        head.push(next.value);
        size += next.value.byteLength;
      }
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
    return new ReadableStream({ start: (c) => { c.enqueue(whole); c.close(); } });
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of head) controller.enqueue(chunk);
    },
    async pull(controller) {
      const next = await reader!.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader!.cancel(reason),
  });
}

// A collector's answer is streamed to the caller, which means the status line is sent before the
// body has arrived. Most answers are small: those are read whole first and checked, so a collector
// that breaks off or sends garbage gets a proper error naming the shard instead of a broken 200.
// Larger answers stream after their first CHECKED_PREFIX bytes; a failure after that point aborts
// the response, which clients report as a failed request.
import { ApiError } from '../api/envelope.ts';
import { readUpTo, type CollectorAnswer } from './http.ts';

export const CHECKED_PREFIX = 256 * 1024;

/** Changes a body as it goes through, chunk by chunk (the shard label insertion). */
export interface ChunkEditor {
  /** The output for the next chunk, as pieces in order (views of the chunk where it is unchanged). */
  push(chunk: Buffer): Buffer[];
  /** What is still held back once the input has ended. */
  end(): Buffer;
}

export function editWhole(body: Buffer, editor: ChunkEditor): Buffer {
  return Buffer.concat([...editor.push(body), editor.end()]);
}

/**
 * The whole body, edited, if it fits in CHECKED_PREFIX bytes (checked), else a stream of it, edited
 * as it flows. The stream reads the collector's answer directly, one layer, no Node-to-web adapters:
 * those cost throughput and held more of a large answer in memory.
 */
export async function checkedBody(shard: string, answer: CollectorAnswer, editor?: ChunkEditor): Promise<Buffer | ReadableStream<Uint8Array>> {
  let head: { chunks: Buffer[]; complete: boolean };
  try {
    head = await readUpTo(answer.body, CHECKED_PREFIX + 1);
  } catch (err) {
    throw brokeOff(shard, err);
  }
  if (head.complete) {
    const whole = Buffer.concat(head.chunks);
    try {
      JSON.parse(whole.toString('utf8'));
    } catch (err) {
      throw new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector answered invalid JSON (${(err as Error).message})`);
    }
    return editor === undefined ? whole : editWhole(whole, editor);
  }
  return streamOf(shard, head.chunks, answer.body, editor);
}

function streamOf(shard: string, head: Buffer[], body: CollectorAnswer['body'], editor?: ChunkEditor): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  const edit = (chunk: Buffer): Buffer[] => (editor === undefined ? [chunk] : editor.push(chunk));
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of head) for (const piece of edit(chunk)) controller.enqueue(piece);
    },
    async pull(controller) {
      // A pull that enqueues nothing is not called again: read on until something goes out (the
      // editor may hold a short chunk back whole, waiting to see how a label set opening ends).
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await chunks.next();
        } catch (err) {
          controller.error(brokeOff(shard, err));
          return;
        }
        if (next.done === true) {
          const rest = editor?.end();
          if (rest !== undefined && rest.length > 0) controller.enqueue(rest);
          controller.close();
          return;
        }
        const pieces = edit(next.value as Buffer);
        for (const piece of pieces) controller.enqueue(piece);
        if (pieces.length > 0) return;
      }
    },
    cancel() {
      // The caller went away: stop reading the collector's answer.
      body.destroy();
    },
  });
}

/** The error for an answer that stopped coming: the exchange's deadline, or the collector's doing. */
export function brokeOff(shard: string, err: unknown): ApiError {
  if ((err as Error)?.name === 'TimeoutError') {
    return new ApiError('timeout', `shard ${JSON.stringify(shard)}: collector did not finish its answer in time`);
  }
  return new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector broke off its answer (${(err as Error).message})`);
}

// A collector's answer is streamed to the caller, which means the status line is sent before the
// body has arrived. Most answers are small: those are read whole first and checked, so a collector
// that breaks off or sends garbage gets a proper error naming the shard instead of a broken 200.
// Larger answers stream after their first CHECKED_PREFIX bytes, whose head (status, result type,
// result) has been checked; a failure after that point aborts the response, which clients report as
// a failed request.
import { ApiError } from '../errors.ts';
import { readUpTo, type CollectorAnswer } from './http.ts';

export const CHECKED_PREFIX = 256 * 1024;

/** Reads, and may change, a body chunk by chunk as it goes through (the shard label insertion). */
export interface ChunkEditor {
  /** The output for the next chunk, as pieces in order (views of the chunk where it is unchanged). */
  push(chunk: Buffer): Buffer[];
  /** What is still held back once the input has ended. */
  end(): Buffer;
  /** What is wrong with the answer's structure so far (a 2xx answer that is no success), or null. */
  readonly problem: string | null;
  /** The answer's head is read and sound; an editor that changes nothing need not see the rest. */
  readonly headChecked: boolean;
  /** Whether it changes the body (then it sees every chunk). */
  readonly changes: boolean;
}

/** Counts the collector's bytes that went through, for the request log. */
export interface BodyCount {
  add(bytes: number): void;
  /** The body has ended, been cut off, or was abandoned by the caller. */
  done(): void;
}

export function editWhole(body: Buffer, editor: ChunkEditor): Buffer {
  return Buffer.concat([...editor.push(body), editor.end()]);
}

/**
 * The whole body, checked and edited, if it fits in CHECKED_PREFIX bytes, else a stream of it, edited
 * as it flows once its head is checked. The stream reads the collector's answer directly, one layer,
 * no Node-to-web adapters: those cost throughput and held more of a large answer in memory.
 */
export async function checkedBody(shard: string, answer: CollectorAnswer, editor: ChunkEditor, count?: BodyCount): Promise<Buffer | ReadableStream<Uint8Array>> {
  let head: { chunks: Buffer[]; complete: boolean };
  try {
    head = await readUpTo(answer.body, CHECKED_PREFIX + 1);
  } catch (err) {
    count?.done();
    throw brokeOff(shard, err);
  }
  for (const chunk of head.chunks) count?.add(chunk.byteLength);
  if (head.complete) {
    count?.done();
    const whole = Buffer.concat(head.chunks);
    let parsed: { error?: unknown };
    try {
      parsed = JSON.parse(whole.toString('utf8')) as typeof parsed;
    } catch (err) {
      throw new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector answered invalid JSON (${(err as Error).message})`);
    }
    const edited = editWhole(whole, editor);
    if (editor.problem !== null || !editor.headChecked) {
      const reason = typeof parsed?.error === 'string' ? `: ${parsed.error}` : '';
      throw notAnAnswer(shard, `${editor.problem ?? 'no status, data.resultType and data.result'}${reason}`);
    }
    return edited;
  }
  const pieces = head.chunks.flatMap((chunk) => editor.push(chunk));
  if (editor.problem !== null || !editor.headChecked) {
    answer.body.destroy();
    count?.done();
    throw notAnAnswer(shard, editor.problem ?? `no status, data.resultType and data.result in its first ${CHECKED_PREFIX} bytes`);
  }
  return streamOf(shard, pieces, answer.body, editor, count);
}

function streamOf(shard: string, head: Buffer[], body: CollectorAnswer['body'], editor: ChunkEditor, count?: BodyCount): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  let finished = false;
  const finish = () => {
    if (!finished) count?.done();
    finished = true;
  };
  // An answer nobody reads to its end still ends: at the exchange's deadline, which destroys it. By
  // the time the body closes, every chunk it gave has been counted.
  body.once('close', finish);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of head) controller.enqueue(piece);
    },
    async pull(controller) {
      // A pull that enqueues nothing is not called again: read on until something goes out (the
      // editor may hold a short key back, waiting to see whether it is the shard label).
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await chunks.next();
        } catch (err) {
          finish();
          controller.error(brokeOff(shard, err));
          return;
        }
        if (next.done === true) {
          finish();
          if (editor.changes) {
            const rest = editor.end();
            if (rest.length > 0) controller.enqueue(rest);
          }
          controller.close();
          return;
        }
        const chunk = next.value as Buffer;
        count?.add(chunk.byteLength);
        const pieces = editor.changes ? editor.push(chunk) : [chunk];
        if (editor.problem !== null) {
          finish();
          body.destroy();
          controller.error(notAnAnswer(shard, editor.problem));
          return;
        }
        for (const piece of pieces) controller.enqueue(piece);
        if (pieces.length > 0) return;
      }
    },
    cancel() {
      // The caller went away: stop reading the collector's answer.
      finish();
      body.destroy();
    },
  });
}

/** A 2xx answer that is not a valid answer: the collector's (or a proxy's) fault, a shard failure. */
export function notAnAnswer(shard: string, problem: string): ApiError {
  return new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector answered no valid answer: ${problem}`);
}

/** The error for an answer that stopped coming: the exchange's deadline, or the collector's doing. */
export function brokeOff(shard: string, err: unknown): ApiError {
  if ((err as Error)?.name === 'TimeoutError') {
    return new ApiError('timeout', `shard ${JSON.stringify(shard)}: collector did not finish its answer in time`);
  }
  return new ApiError('unavailable', `shard ${JSON.stringify(shard)}: collector broke off its answer (${(err as Error).message})`);
}

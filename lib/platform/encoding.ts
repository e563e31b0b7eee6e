// gzip as the platforms apply it to the core's answers (the functions' buffered results, `serve`'s
// streamed ones), for the clients that accept it (lib/api/encoding.ts).
import { constants, createGzip, gzipSync, type Gzip } from 'node:zlib';
import { acceptsGzip } from '../api/encoding.ts';

/**
 * The streamed answers arrive in many small pieces (the shard label insertion cuts chunks at every
 * label set); zlib costs a thread-pool round trip per write, so pieces are batched to this size first.
 * With level 1, a 5 MB answer costs no more time or CPU gzipped than plain, whose JSON escaping costs
 * about as much (`npm run bench -- handler-gzip`; zlib's default level 6 with a write per piece added
 * 30-75% to its time and 60-170% to its CPU).
 */
export const GZIP_BATCH_BYTES = 64 * 1024;

/** Level 1: the answers shrink about 5 times (level 6: about 6), for a fraction of level 6's CPU. */
export const fastGzip = (): Gzip => createGzip({ level: constants.Z_BEST_SPEED, chunkSize: GZIP_BATCH_BYTES });

/**
 * gzip in batches: pieces gathered to GZIP_BATCH_BYTES before each write to zlib; an answer that ends
 * within its first batch compressed at once, without a round trip to zlib's thread pool. What zlib
 * makes goes to `onData`; a zlib failure to `onError`. The functions' buffered result and `serve`'s
 * stream both compress through it.
 */
export class BatchedGzip {
  private batch: Uint8Array[] = [];
  private batched = 0;
  private zlib: Gzip | null = null;

  constructor(
    private readonly onData: (compressed: Buffer) => void,
    private readonly onError: (err: Error) => void,
    private readonly make: () => Gzip = fastGzip,
  ) {}

  /** Takes a piece; when that fills a batch, resolves once zlib has taken it (the answer waits on compression, not on memory). */
  async push(piece: Uint8Array): Promise<void> {
    this.batch.push(piece);
    this.batched += piece.byteLength;
    if (this.batched >= GZIP_BATCH_BYTES) await this.write();
  }

  /** Compresses what is left and ends the member; resolves once every compressed byte went to `onData`. */
  async end(): Promise<void> {
    if (this.zlib === null) {
      this.onData(gzipSync(this.take(), { level: constants.Z_BEST_SPEED }));
      return;
    }
    if (this.batched > 0) await this.write();
    const ended = settled(this.zlib, 'end');
    this.zlib.end();
    await ended;
  }

  /** Stops compressing (the answer failed, or nobody reads it any more). */
  destroy(): void {
    this.zlib?.destroy();
  }

  private async write(): Promise<void> {
    this.zlib ??= this.make().on('data', this.onData).on('error', this.onError);
    if (!this.zlib.write(this.take())) await settled(this.zlib, 'drain');
  }

  private take(): Buffer {
    const bytes = Buffer.concat(this.batch, this.batched);
    this.batch = [];
    this.batched = 0;
    return bytes;
  }
}

/** Resolves on `event`, or when the stream closes (destroyed) without it. */
function settled(stream: Gzip, event: 'drain' | 'end'): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off(event, done).off('close', done);
      resolve();
    };
    stream.on(event, done).on('close', done);
  });
}

/**
 * The response gzipped as it streams, when the client accepts gzip and the core has not encoded it
 * already (answers assembled from the results cache come compressed):
 * `prome-route serve` answers like the Prometheus it stands for (which compresses every API answer for
 * such a client), so Grafana's answers travel about five times smaller.
 */
export function gzipResponse(response: Response, acceptEncoding: string | null): Response {
  // An answer the core compressed (from the results cache) first: the core has read the header for it.
  // `body` last: reading it turns @hono/node-server's light Response into a web stream, which costs
  // the answers that are sent as they are their direct write.
  if (response.headers.has('content-encoding') || !acceptsGzip(acceptEncoding) || response.body === null) return response;
  const headers = new Headers(response.headers);
  headers.set('content-encoding', 'gzip');
  headers.append('vary', 'accept-encoding');
  headers.delete('content-length');
  return new Response(response.body.pipeThrough(gzipStream()), { status: response.status, statusText: response.statusText, headers });
}

/** BatchedGzip as a web stream's transform. */
function gzipStream(): TransformStream<Uint8Array, Uint8Array> {
  let gzip: BatchedGzip;
  return new TransformStream({
    start(controller) {
      gzip = new BatchedGzip(
        (compressed) => {
          try {
            controller.enqueue(compressed);
          } catch {
            // The reader went away (a client that disconnected): nothing more to compress for.
            gzip.destroy();
          }
        },
        (err) => {
          try {
            controller.error(err);
          } catch {
            // already ended
          }
        },
      );
    },
    transform: (chunk) => gzip.push(chunk),
    flush: () => gzip.end(),
  });
}

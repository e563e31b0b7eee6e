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

/** An answer smaller than one batch, compressed at once, without a round trip to zlib's thread pool. */
export const gzipAtOnce = (bytes: Uint8Array): Buffer => gzipSync(bytes, { level: constants.Z_BEST_SPEED });

/**
 * The response gzipped as it streams, when the client accepts gzip and the core has not encoded it
 * already (answers assembled from the results cache come compressed): `prome-route serve` answers like the Prometheus it stands for (which compresses every API
 * answer for such a client), so Grafana's answers travel about five times smaller.
 */
export function gzipResponse(response: Response, acceptEncoding: string | null): Response {
  // `body` last: reading it turns @hono/node-server's light Response into a web stream, which costs
  // the answers that are sent as they are their direct write.
  if (!acceptsGzip(acceptEncoding) || response.headers.has('content-encoding') || response.body === null) return response;
  const headers = new Headers(response.headers);
  headers.set('content-encoding', 'gzip');
  headers.set('vary', 'accept-encoding');
  headers.delete('content-length');
  return new Response(response.body.pipeThrough(gzipStream()), { status: response.status, statusText: response.statusText, headers });
}

/**
 * gzip as a web stream: pieces batched to GZIP_BATCH_BYTES; an answer that ends within its first batch
 * compressed at once, a longer one through a zlib stream, each batch handed on as it is compressed.
 */
function gzipStream(): TransformStream<Uint8Array, Uint8Array> {
  let batch: Uint8Array[] = [];
  let batched = 0;
  let zlib: Gzip | null = null;
  let output: TransformStreamDefaultController<Uint8Array>;
  const take = () => {
    const bytes = Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    return bytes;
  };
  /** Writes to zlib; resolves once it has taken the bytes (the answer waits on compression, not memory). */
  const write = (gz: Gzip, bytes: Buffer) => new Promise<void>((resolve, reject) => gz.write(bytes, (err) => (err ? reject(err) : resolve())));
  return new TransformStream({
    start(controller) {
      output = controller;
    },
    async transform(chunk) {
      batch.push(chunk);
      batched += chunk.byteLength;
      if (batched < GZIP_BATCH_BYTES) return;
      zlib ??= fastGzip().on('data', (compressed: Buffer) => output.enqueue(compressed));
      await write(zlib, take());
    },
    async flush() {
      if (zlib === null) {
        output.enqueue(gzipAtOnce(take()));
        return;
      }
      const gz = zlib;
      if (batched > 0) await write(gz, take());
      await new Promise<void>((resolve, reject) => {
        gz.once('end', resolve).once('error', reject);
        gz.end();
      });
    },
  });
}

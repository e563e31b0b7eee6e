// The core's Response as the buffered result object both clouds' HTTP front doors take (API Gateway
// proxy integrations, FC HTTP triggers): neither streams a function's answer through, and both cap
// its size, so the body is read whole, gzipped as it arrives when the client accepts it, and checked
// against the cap.
import type { Gzip } from 'node:zlib';
import { failure } from '../api/envelope.ts';
import { ApiError } from '../errors.ts';
import { acceptsGzip } from '../api/encoding.ts';
import { BatchedGzip, fastGzip } from './encoding.ts';

export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

export interface ResultOptions {
  /** The request's Accept-Encoding header. */
  readonly acceptEncoding: string | null;
  /** The most the body may take as serialised in the result object (a JSON string). */
  readonly limitBytes: number;
  /** Epoch milliseconds by which the result must be ready: the function's own time, less a margin. */
  readonly deadline?: number;
  /** The compressor (default: gzip at level 1); replaceable to test how a slow one is blamed. */
  readonly gzip?: () => Gzip;
}

/**
 * Headers the platforms set themselves or refuse from a function (FC rejects content-length, date,
 * server, connection, keep-alive); content-length would be wrong after gzip anyway.
 */
const DROPPED_HEADERS = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date', 'server']);

export async function toResult(response: Response, options: ResultOptions): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!DROPPED_HEADERS.has(name)) headers[name] = value;
  });
  // An answer the core sent compressed already (assembled from the results cache) travels as it is.
  const compressed = headers['content-encoding'] !== undefined;
  const gzip = response.body !== null && !compressed && acceptsGzip(options.acceptEncoding);
  const text = !gzip && !compressed && isText(headers['content-type']);
  // Base64 turns 3 bytes into 4 characters; text only grows when serialised (escapes), so reading
  // stops as soon as what is read cannot fit any more.
  const maxBytes = text ? options.limitBytes : Math.floor(options.limitBytes / 4) * 3;
  const read = await readBody(response, gzip ? (options.gzip ?? fastGzip) : null, maxBytes, options.deadline ?? Infinity);
  if (read instanceof ApiError) return errorResult(read);
  const encoded = read === null ? null : text ? read.toString('utf8') : read.toString('base64');
  if (encoded === null || (text && Buffer.byteLength(JSON.stringify(encoded)) > options.limitBytes)) {
    return errorResult(new ApiError('execution',
      `the answer is larger than this deployment can return (${options.limitBytes} bytes): narrow the time range, raise the step or select fewer series`));
  }
  if (gzip) {
    headers['content-encoding'] = 'gzip';
    headers.vary = 'accept-encoding';
  }
  return { statusCode: response.status, headers, body: encoded, isBase64Encoded: !text };
}

/**
 * The body, gzipped if asked; null once it exceeds `maxBytes` (reading stops there); an ApiError when
 * the answer failed while being read (a collector that did not finish, naming the shard) or the
 * deadline came first. A deadline is blamed on the side that was slow: the answer that was still
 * coming, or this function's compression when it held the answer back longer than it waited for it.
 */
async function readBody(response: Response, compress: (() => Gzip) | null, maxBytes: number, deadline: number): Promise<Buffer | ApiError | null> {
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const out: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let failed: Error | undefined;
  let expired = false;
  const waited = { source: 0, compression: 0 };
  const stop = () => {
    void reader.cancel().catch(() => {});
    compressor?.destroy();
  };
  const keep = (chunk: Buffer) => {
    size += chunk.byteLength;
    if (size > maxBytes) {
      tooLarge = true;
      stop();
    } else {
      out.push(chunk);
    }
  };
  const compressor = compress === null ? null : new BatchedGzip(keep, (err) => {
    failed ??= err;
  }, compress);
  const timer = Number.isFinite(deadline) ? setTimeout(() => {
    expired = true;
    stop();
  }, Math.max(0, deadline - Date.now())) : undefined;
  try {
    for (;;) {
      const started = performance.now();
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } finally {
        // A read that fails (the collector stalled until its deadline) waited on the source too.
        waited.source += performance.now() - started;
      }
      const { done, value } = read;
      if (done || expired || tooLarge || failed !== undefined) break;
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (compressor === null) {
        keep(chunk);
        continue;
      }
      const handed = performance.now();
      await compressor.push(chunk);
      waited.compression += performance.now() - handed;
    }
    if (compressor !== null && !expired && !tooLarge && failed === undefined) await compressor.end();
  } catch (err) {
    failed ??= err as Error;
  } finally {
    clearTimeout(timer);
  }
  if (tooLarge) return null;
  if (expired) return new ApiError('timeout', `the function ran out of time ${compress === null ? 'reading' : 'compressing'} the answer (${size} bytes ready)`);
  if (failed instanceof ApiError) {
    if (failed.errorType === 'timeout' && waited.compression > waited.source) {
      return new ApiError('timeout', `the function ran out of time compressing the answer: compression held it back for ${Math.round(waited.compression)} ms`);
    }
    return failed;
  }
  if (failed !== undefined) throw failed;
  return Buffer.concat(out, size);
}

/** JSON and text travel as strings; anything else (and anything gzipped) as base64. */
function isText(contentType: string | undefined): boolean {
  return contentType !== undefined && /^(text\/|application\/([\w.+-]+\+)?json\b)/i.test(contentType);
}

/** A Prometheus error envelope, for failures outside the core: the platforms would answer 502. */
export function errorResult(err: ApiError): Promise<HttpResult> {
  return toResult(failure(err), { acceptEncoding: null, limitBytes: Infinity });
}

// The core's Response as the buffered result object both clouds' HTTP front doors take (API Gateway
// proxy integrations, FC HTTP triggers): neither streams a function's answer through, and both cap
// its size, so the body is read whole, gzipped when the client accepts it, and checked against the cap.
import { Readable, pipeline } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGzip } from 'node:zlib';
import { ApiError, failure } from '../api/envelope.ts';
import { acceptsGzip } from './encoding.ts';

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
  const gzip = response.body !== null && acceptsGzip(options.acceptEncoding);
  const text = !gzip && isText(headers['content-type']);
  // Base64 turns 3 bytes into 4 characters; text only grows when serialised (escapes), so reading
  // stops as soon as what is read cannot fit any more.
  const body = await readBody(response, gzip, text ? options.limitBytes : Math.floor(options.limitBytes / 4) * 3);
  const encoded = body === null ? null : text ? body.toString('utf8') : body.toString('base64');
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

/** The body, gzipped if asked, or null once it exceeds `maxBytes` (reading stops there). */
async function readBody(response: Response, gzip: boolean, maxBytes: number): Promise<Buffer | null> {
  if (response.body === null) return Buffer.alloc(0);
  const source = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  // pipeline() destroys the source when the gzip stream is destroyed, cancelling the core's stream.
  const stream = gzip ? pipeline(source, createGzip(), () => {}) : source;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) return null; // leaving the loop destroys the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** JSON and text travel as strings; anything else (and anything gzipped) as base64. */
function isText(contentType: string | undefined): boolean {
  return contentType !== undefined && /^(text\/|application\/([\w.+-]+\+)?json\b)/i.test(contentType);
}

/** A Prometheus error envelope, for failures outside the core: the platforms would answer 502. */
export function errorResult(err: ApiError): Promise<HttpResult> {
  return toResult(failure(err), { acceptEncoding: null, limitBytes: Infinity });
}

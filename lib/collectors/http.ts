// The HTTP transport to collectors: node:http with keep-alive agents. The global fetch (undici with
// web streams and abort signals) cost ten times more CPU per request on the router's hot path.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AnswerBytes } from './answer-bytes.ts';

/** A collector's answer: status and content type, and the body as a stream to read once. */
export interface CollectorAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: IncomingMessage;
}

export interface SendOptions {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  /** A form (query parameters) or a protobuf message (remote read). */
  readonly body?: string | Uint8Array;
  /** The whole exchange, body included, must finish within this. */
  readonly timeoutMs: number;
  /** Cancels the exchange (a hedged request that lost). */
  readonly cancel?: AbortSignal;
}

const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export class TransportTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/** A collector's base URL as request options, parsed once: parsing it per request showed in profiles. */
interface Endpoint {
  readonly client: typeof http | typeof https;
  readonly agent: http.Agent;
  readonly hostname: string;
  readonly port: string;
  /** The base URL's path without its trailing slash, to which API paths are appended. */
  readonly basePath: string;
}

const endpoints = new Map<string, Endpoint>();
/** Shard map refreshes may bring new URLs over a long life: past this many, start afresh. */
const MAX_ENDPOINTS = 1024;

function endpointOf(base: string): Endpoint {
  let endpoint = endpoints.get(base);
  if (endpoint === undefined) {
    if (endpoints.size >= MAX_ENDPOINTS) endpoints.clear();
    const url = new URL(base);
    const secure = url.protocol === 'https:';
    endpoint = {
      client: secure ? https : http,
      agent: secure ? AGENTS['https:'] : AGENTS['http:'],
      // Node wants IPv6 literals without their brackets.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      basePath: url.pathname.replace(/\/+$/, ''),
    };
    endpoints.set(base, endpoint);
  }
  return endpoint;
}

/** Sends one request to `base` (a collector's URL from the shard map) + `pathAndQuery`. */
export function send(base: string, pathAndQuery: string, options: SendOptions): Promise<CollectorAnswer> {
  return new Promise((resolve, reject) => {
    const { client, agent, hostname, port, basePath } = endpointOf(base);
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const request = client.request({ hostname, port, path: basePath + pathAndQuery, method: options.method, headers, agent });
    // One timer for the whole exchange. Once the answer has begun, its body is destroyed with the
    // reason, so that whoever reads it learns it was the deadline, not the collector.
    let answer: IncomingMessage | undefined;
    const stop = (reason: Error) => (answer === undefined ? request.destroy(reason) : answer.destroy(reason));
    const timer = setTimeout(() => stop(new TransportTimeout('timed out')), options.timeoutMs);
    const cancel = () => stop(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    options.cancel?.addEventListener('abort', cancel, { once: true });
    const finished = () => {
      clearTimeout(timer);
      options.cancel?.removeEventListener('abort', cancel);
    };
    request.on('response', (body) => {
      answer = body;
      body.on('close', finished);
      resolve({ status: body.statusCode ?? 0, contentType: String(body.headers['content-type'] ?? ''), body });
    });
    request.on('error', (err) => {
      finished();
      reject(err);
    });
    request.end(options.body);
  });
}

/** Reads a body whole, or its first `limit` bytes (then drops the rest). */
export async function readBody(body: IncomingMessage, limit = Infinity): Promise<Buffer> {
  const { chunks, complete } = await readUpTo(body, limit);
  if (!complete) body.destroy();
  return Buffer.concat(chunks);
}

/**
 * Reads chunks until the body ends or at least `limit` bytes have come, or `budget` refuses a chunk;
 * in the other cases the body is left paused, the rest unread. Events rather than an async iterator:
 * that cost a tenth of the router's CPU on small answers.
 */
export function readUpTo(body: IncomingMessage, limit: number, budget?: AnswerBytes): Promise<{ chunks: Buffer[]; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    if (body.destroyed) {
      reject(body.errored ?? new Error('closed'));
      return;
    }
    const settle = (complete: boolean) => {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve({ chunks, complete });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= limit || (budget !== undefined && !budget.take(chunk.byteLength))) {
        body.pause();
        settle(false);
      }
    };
    const onEnd = () => settle(true);
    const onError = (err: Error) => {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      reject(err);
    };
    // A body destroyed without an error (its request was cancelled) ends neither way.
    const onClose = () => onError(new Error(body.readableAborted ? 'aborted' : 'closed'));
    // resume(): a body an earlier call left paused does not flow again by itself.
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose).resume();
  });
}

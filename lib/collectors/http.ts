// The HTTP transport to collectors: node:http with keep-alive agents. The global fetch (undici with
// web streams and abort signals) cost ten times more CPU per request on the router's hot path.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/** A collector's answer: status and content type, and the body as a stream to read once. */
export interface CollectorAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: IncomingMessage;
}

export interface SendOptions {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
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

export function send(url: string, options: SendOptions): Promise<CollectorAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const request = client.request(target, { method: options.method, headers, agent: AGENTS[target.protocol as 'http:'] });
    // One timer for the whole exchange: destroying the request also fails a body still being read.
    const timer = setTimeout(() => request.destroy(new TransportTimeout('timed out')), options.timeoutMs);
    const cancel = () => request.destroy(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    options.cancel?.addEventListener('abort', cancel, { once: true });
    const finished = () => {
      clearTimeout(timer);
      options.cancel?.removeEventListener('abort', cancel);
    };
    request.on('response', (body) => {
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
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}

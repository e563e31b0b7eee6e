import { ApiError } from '../errors.ts';

/** Form bodies beyond this are refused; Grafana's largest queries are a few kilobytes. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The request's parameters as Prometheus reads them (Go's Request.ParseForm): a form body's values
 * first, then the URL's. So for single-valued parameters the body wins, and repeated ones such as
 * match[] are the concatenation. The body must have arrived by `deadline` (epoch ms).
 */
export async function readParams(request: Request, url: URL, deadline: number): Promise<URLSearchParams> {
  const params = new URLSearchParams();
  const type = request.headers.get('content-type') ?? '';
  if (request.method === 'POST' && type.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(await readBodyText(request, deadline))) params.append(k, v);
  }
  for (const [k, v] of url.searchParams) params.append(k, v);
  return params;
}

/**
 * The body as text, refused once it is larger than MAX_BODY_BYTES or still arriving at the deadline.
 * A body of declared length is read in one go (the HTTP server holds it to that length); a chunked
 * body is counted as it arrives and never held beyond the limit.
 */
async function readBodyText(request: Request, deadline: number): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(tooSlow()), Math.max(0, deadline - Date.now()));
  });
  try {
    if (declared !== null) {
      const text = request.text();
      // Left behind at the deadline, the read ends with the connection; its failure is no news.
      text.catch(() => undefined);
      return await Promise.race([text, expired]);
    }
    return await readCounted(request.body, expired);
  } finally {
    clearTimeout(timer);
  }
}

async function readCounted(body: ReadableStream<Uint8Array> | null, expired: Promise<never>): Promise<string> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = reader.read();
    next.catch(() => undefined);
    const { done, value } = await Promise.race([next, expired]);
    if (done) break;
    size += value.byteLength;
    // Nothing more is kept: the HTTP server discards the rest after the answer (@hono/node-server
    // drains a body left unread for a moment, then closes the connection).
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(): ApiError {
  return new ApiError('bad_data', `request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
}

function tooSlow(): ApiError {
  return new ApiError('timeout', 'request body not received in time: the whole request must arrive within the router\'s timeout', 408);
}

/** Copies the named parameters (all their values) that are present. */
export function pick(params: URLSearchParams, names: readonly string[]): URLSearchParams {
  const out = new URLSearchParams();
  for (const name of names) for (const v of params.getAll(name)) out.append(name, v);
  return out;
}

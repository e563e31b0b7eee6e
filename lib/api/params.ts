import { ApiError } from './envelope.ts';

/** Form bodies beyond this are refused; Grafana's largest queries are a few kilobytes. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The request's parameters as Prometheus reads them (Go's Request.ParseForm): a form body's values
 * first, then the URL's. So for single-valued parameters the body wins, and repeated ones such as
 * match[] are the concatenation.
 */
export async function readParams(request: Request, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams();
  const type = request.headers.get('content-type') ?? '';
  if (request.method === 'POST' && type.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded') {
    const declared = Number(request.headers.get('content-length') ?? '0');
    if (declared > MAX_BODY_BYTES) throw tooLarge();
    const body = await request.text();
    if (body.length > MAX_BODY_BYTES) throw tooLarge();
    for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
  }
  for (const [k, v] of url.searchParams) params.append(k, v);
  return params;
}

function tooLarge(): ApiError {
  return new ApiError('bad_data', `request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
}

/** Copies the named parameters (all their values) that are present. */
export function pick(params: URLSearchParams, names: readonly string[]): URLSearchParams {
  const out = new URLSearchParams();
  for (const name of names) for (const v of params.getAll(name)) out.append(name, v);
  return out;
}

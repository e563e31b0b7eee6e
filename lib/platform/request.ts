// What both cloud adapters build from their event: a Web Request for the core. Only the path and the
// query make the URL: the gateway's host name is not needed by the core, and need not be a valid host
// (FC's own sample event has `<http-trigger-id>.<region-id>.fcapp.run`).

export interface PlatformRequest {
  readonly method: string;
  /** As in the request line (URL-encoded); a stage or base path may precede `/api/v1/`. */
  readonly path: string;
  /** Without the `?`. */
  readonly query: string;
  readonly headers: Headers;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  /** The platform's request id: the router's log line carries it as x-request-id unless the client sent one. */
  readonly requestId: string;
}

/** The origin every request gets: a placeholder the core never reads. */
const ORIGIN = 'http://function.invalid';

export function toWebRequest({ method, path, query, headers, body, isBase64Encoded, requestId }: PlatformRequest): Request {
  if (!headers.has('x-request-id')) headers.set('x-request-id', requestId);
  const url = new URL(ORIGIN);
  // The setters keep %XX escapes as they are and escape what a path or query may not hold, so a path
  // like `//host/x` stays a path instead of becoming a host.
  url.pathname = path.startsWith('/') ? path : `/${path}`;
  url.search = query;
  const hasBody = body !== undefined && body !== null && body !== '' && method !== 'GET' && method !== 'HEAD';
  // HTTP APIs and FC hand form POSTs over in base64; REST APIs do for binaryMediaTypes.
  return new Request(url, { method, headers, body: hasBody ? (isBase64Encoded ? Buffer.from(body, 'base64') : body) : undefined });
}

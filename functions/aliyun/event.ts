// Function Compute 3.0 HTTP trigger invocations as Web Requests: the event (JSON in a Buffer) and the
// invocation context, whose fields are read defensively (an older or emulated runtime may leave some out).
import type { CloudContext } from '../../lib/platform/handler.ts';
import { toWebRequest } from '../../lib/platform/request.ts';
import { DEADLINE_MARGIN_MS } from '../../lib/platform/settings.ts';
import { DEFAULT_TIMEOUT_MS } from '../../lib/api/router.ts';
import type { AlibabaCredentials } from '../../lib/shards/alibaba.ts';
import { splitSelectors } from './selectors.ts';

/** The HTTP trigger's event, the fields used here. */
export interface FcHttpEvent {
  /** URL-encoded, as in the request line. */
  readonly rawPath: string;
  /** Names as the client wrote them; repeated headers joined with commas. */
  readonly headers?: Record<string, string>;
  /** Decoded values; a repeated parameter's values joined with commas. */
  readonly queryParameters?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly http: { readonly method: string } };
}

/** The context FC passes each invocation, as far as it is used. */
export interface FcContext {
  readonly requestId?: string;
  /** The function role's temporary keys; absent without a role. */
  readonly credentials?: Partial<AlibabaCredentials>;
  /** `timeout` in seconds. */
  readonly function?: { readonly timeout?: number };
}

export interface FcInvocation extends CloudContext {
  readonly requestId: string;
  readonly credentials?: Partial<AlibabaCredentials>;
}

/**
 * The invocation's context with its defaults: without `function.timeout` the function is taken to
 * have the router's default deadline plus the margin (the core then keeps its 25 s).
 */
export function fcInvocation(context: FcContext | undefined, startedAt = Date.now()): FcInvocation {
  const timeoutSeconds = context?.function?.timeout;
  const functionTimeMs = typeof timeoutSeconds === 'number' && timeoutSeconds > 0
    ? timeoutSeconds * 1000
    : DEFAULT_TIMEOUT_MS + DEADLINE_MARGIN_MS;
  return {
    requestId: context?.requestId || crypto.randomUUID(),
    ...(context?.credentials === undefined ? {} : { credentials: context.credentials }),
    getRemainingTimeInMillis: () => startedAt + functionTimeMs - Date.now(),
  };
}

/** The event as the Request the client sent; the URL from the path and query only. */
export function toRequest(payload: Buffer | string, invocation: { readonly requestId: string }): Request {
  const event = JSON.parse(payload.toString()) as FcHttpEvent;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryParameters ?? {})) {
    for (const one of name === 'match[]' ? splitSelectors(value) : [value]) query.append(name, one);
  }
  return toWebRequest({
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: query.toString(),
    headers: new Headers(event.headers),
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    // FC's request id ties the router's log line to the invocation's own log lines.
    requestId: invocation.requestId,
  });
}

// Alibaba Cloud Function Compute 3.0, HTTP trigger on the built-in Node.js runtime: event (JSON in a
// Buffer) -> Request -> core -> Response -> HTTP trigger result. Bundled to dist/aliyun/index.js
// (CommonJS: FC loads a .js handler file as CommonJS), handler `index.handler`.
import { ApiError } from '../../lib/api/envelope.ts';
import { errorResult, toResult, type HttpResult } from '../../lib/platform/result.ts';
import { routerPerColdStart } from '../../lib/platform/router.ts';
import { DEADLINE_MARGIN_MS, FC_RESPONSE_LIMIT_BYTES, responseLimitBytes } from '../../lib/platform/settings.ts';
import type { OssCredentials } from '../../lib/shards/oss.ts';
import { ossCredentials, rememberCredentials } from './credentials.ts';
import { splitSelectors } from './selectors.ts';

/** The HTTP trigger's event, the fields used here. */
interface FcHttpEvent {
  /** URL-encoded, as in the request line. */
  readonly rawPath: string;
  /** Names as the client wrote them; repeated headers joined with commas. */
  readonly headers?: Record<string, string>;
  /** Decoded values; a repeated parameter's values joined with commas. */
  readonly queryParameters?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly domainName?: string; readonly http: { readonly method: string } };
}

interface FcContext {
  readonly requestId: string;
  /** The function role's temporary keys; absent without a role. */
  readonly credentials?: Partial<OssCredentials>;
  /** `timeout` in seconds. */
  readonly function: { readonly timeout: number };
}

const router = routerPerColdStart(process.env, { shardMap: { ossCredentials } });

export async function handler(payload: Buffer | string, context: FcContext): Promise<HttpResult> {
  rememberCredentials(context.credentials);
  const functionTimeMs = context.function.timeout * 1000;
  let timer: NodeJS.Timeout | undefined;
  // FC has no early-timeout hook: should something outside the core's deadline run on (a shard map
  // source that hangs), answer a Prometheus timeout before FC ends the invocation with its own error.
  const outOfTime = new Promise<HttpResult>((resolve) => {
    timer = setTimeout(() => resolve(errorResult(new ApiError('timeout', 'the function ran out of time before the query finished'))),
      functionTimeMs - DEADLINE_MARGIN_MS / 3);
  });
  try {
    return await Promise.race([route(payload, context.requestId, functionTimeMs), outOfTime]);
  } catch (err) {
    // Anything thrown outside the core (a malformed event, a bad setting) still answers in Prometheus's format.
    console.error(JSON.stringify({ level: 'error', msg: 'function error', error: String((err as Error)?.stack ?? err) }));
    return errorResult(new ApiError('internal', `internal error: ${(err as Error)?.message ?? String(err)}`));
  } finally {
    clearTimeout(timer);
  }
}

async function route(payload: Buffer | string, requestId: string, functionTimeMs: number): Promise<HttpResult> {
  const request = toRequest(JSON.parse(payload.toString()) as FcHttpEvent, requestId);
  const response = await router(functionTimeMs)(request);
  return toResult(response, {
    acceptEncoding: request.headers.get('accept-encoding'),
    limitBytes: responseLimitBytes(process.env, FC_RESPONSE_LIMIT_BYTES),
  });
}

function toRequest(event: FcHttpEvent, requestId: string): Request {
  const method = event.requestContext.http.method;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryParameters ?? {})) {
    for (const one of name === 'match[]' ? splitSelectors(value) : [value]) query.append(name, one);
  }
  const headers = new Headers(event.headers);
  // The core logs x-request-id: FC's request id ties its line to the invocation's own log lines.
  if (!headers.has('x-request-id')) headers.set('x-request-id', requestId);
  const url = new URL(`https://${event.requestContext.domainName ?? 'localhost'}`);
  url.pathname = event.rawPath; // already encoded: the setter keeps %XX escapes as they are
  url.search = query.toString();
  const body = event.body === undefined || event.body === '' || method === 'GET' || method === 'HEAD'
    ? undefined
    : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  return new Request(url, { method, headers, body });
}

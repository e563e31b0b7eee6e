// The one deadline-and-error wrapper both cloud adapters share, on @middy/core: an adapter only says
// how its event becomes a Request; this runs it through the core and hands back the platform's result,
// always a Prometheus envelope, in time.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ApiError } from '../errors.ts';
import type { Router } from '../api/router.ts';
import { errorResult, toResult, type HttpResult } from './result.ts';
import { BACKSTOP_MARGIN_MS, RESULT_MARGIN_MS, responseLimitBytes } from './settings.ts';

/** What middy needs of an invocation's context; FC's gets it from its adapter. */
export interface CloudContext {
  getRemainingTimeInMillis(): number;
}

export interface CloudAdapter<E, C extends CloudContext> {
  /** The platform's event as a Web Request; throws on an event it cannot read. */
  readonly toRequest: (event: E, context: C) => Request;
  /** The most the platform's front door takes as a result (RESPONSE_LIMIT_BYTES overrides it). */
  readonly platformLimitBytes: number;
}

export type CloudHandler<E, C> = (event: E, context: C) => Promise<HttpResult>;

/**
 * Three deadlines, each before the platform would end the call with its own bare error: the core's
 * (DEADLINE_MARGIN_MS before the end: a slow collector answers 503 naming the shard), the result's
 * (RESULT_MARGIN_MS: reading and compressing the answer took too long), and a backstop
 * (BACKSTOP_MARGIN_MS) for anything else that runs on, such as a shard map source that hangs.
 */
export function cloudHandler<E, C extends CloudContext>(router: (functionTimeMs: number) => Router, adapter: CloudAdapter<E, C>): CloudHandler<E, C> {
  async function route(event: E, context: C): Promise<HttpResult> {
    const functionTimeMs = context.getRemainingTimeInMillis();
    const functionEnd = Date.now() + functionTimeMs;
    const request = adapter.toRequest(event, context);
    const response = await router(functionTimeMs)(request);
    return toResult(response, {
      acceptEncoding: request.headers.get('accept-encoding'),
      limitBytes: responseLimitBytes(process.env, adapter.platformLimitBytes),
      deadline: functionEnd - RESULT_MARGIN_MS,
    });
  }
  // middy's types insist on Lambda's Context; at run time it only calls getRemainingTimeInMillis().
  const wrapped = middy<E, HttpResult, Error, Context>(route as unknown as (event: E, context: Context) => Promise<HttpResult>, {
    timeoutEarlyInMillis: BACKSTOP_MARGIN_MS,
    timeoutEarlyResponse: () => errorResult(new ApiError('timeout', 'the function ran out of time before the query finished')),
  }).use({
    // Anything thrown outside the core (a malformed event, a bad setting) still answers in Prometheus's format.
    onError: async (request) => {
      const err = request.error as Error | null;
      console.error(JSON.stringify({ level: 'error', msg: 'function error', error: String(err?.stack ?? err) }));
      request.response = await errorResult(new ApiError('internal', `internal error: ${err?.message ?? String(err)}`));
    },
  });
  return wrapped as unknown as CloudHandler<E, C>;
}

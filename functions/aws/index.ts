// AWS Lambda behind API Gateway (REST API, HTTP API payload 1.0 and 2.0): event -> Request -> core ->
// Response -> proxy result. Bundled to dist/aws/index.mjs, handler `index.handler`.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ApiError } from '../../lib/api/envelope.ts';
import { errorResult, toResult, type HttpResult } from '../../lib/platform/result.ts';
import { routerPerColdStart } from '../../lib/platform/router.ts';
import { AWS_RESPONSE_LIMIT_BYTES, DEADLINE_MARGIN_MS, responseLimitBytes } from '../../lib/platform/settings.ts';
import { toRequest, type ApiGatewayEvent } from './request.ts';

// Request log lines carry CloudWatch embedded metric fields: latency and errors become metrics.
const router = routerPerColdStart(process.env, { metrics: 'emf' });

async function route(event: ApiGatewayEvent, context: Context): Promise<HttpResult> {
  const request = toRequest(event, context.awsRequestId);
  const response = await router(context.getRemainingTimeInMillis())(request);
  return toResult(response, {
    acceptEncoding: request.headers.get('accept-encoding'),
    limitBytes: responseLimitBytes(process.env, AWS_RESPONSE_LIMIT_BYTES),
  });
}

export const handler = middy<ApiGatewayEvent, HttpResult>(route, {
  // The core's deadline ends DEADLINE_MARGIN_MS before the function's. Should something outside it
  // still run on (a shard map source that hangs), answer a Prometheus timeout before Lambda kills the
  // invocation, which API Gateway would report as a bare 502/504.
  timeoutEarlyInMillis: DEADLINE_MARGIN_MS / 3,
  timeoutEarlyResponse: () => errorResult(new ApiError('timeout', 'the function ran out of time before the query finished')),
}).use({
  // Anything thrown outside the core (a malformed event, a bad setting) still answers in Prometheus's format.
  onError: async (request) => {
    const err = request.error as Error | null;
    console.error(JSON.stringify({ level: 'error', msg: 'function error', error: String(err?.stack ?? err) }));
    request.response = await errorResult(new ApiError('internal', `internal error: ${err?.message ?? String(err)}`));
  },
});

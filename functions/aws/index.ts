// AWS Lambda behind API Gateway (REST API, HTTP API payload 1.0 and 2.0): event -> Request -> core ->
// Response -> proxy result, in the wrapper both clouds share. Bundled to dist/aws/index.mjs, handler
// `index.handler`.
import type { Context } from 'aws-lambda';
import { cloudHandler } from '../../lib/platform/handler.ts';
import { routerPerColdStart } from '../../lib/platform/cold-start.ts';
import { AWS_RESPONSE_LIMIT_BYTES } from '../../lib/platform/settings.ts';
import { toRequest, type ApiGatewayEvent } from './event.ts';

export const handler = cloudHandler<ApiGatewayEvent, Context>(
  // Request log lines carry CloudWatch embedded metric fields: latency and errors become metrics.
  routerPerColdStart(process.env, { metrics: 'emf' }),
  { toRequest, platformLimitBytes: AWS_RESPONSE_LIMIT_BYTES },
);

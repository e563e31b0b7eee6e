// Alibaba Cloud Function Compute 3.0, HTTP trigger on the built-in Node.js runtime: event -> Request ->
// core -> Response -> HTTP trigger result, in the wrapper both clouds share. Bundled to
// dist/aliyun/index.js (CommonJS: FC loads a .js handler file as CommonJS), handler `index.handler`.
import { cloudHandler } from '../../lib/platform/handler.ts';
import type { HttpResult } from '../../lib/platform/result.ts';
import { routerPerColdStart } from '../../lib/platform/cold-start.ts';
import { FC_RESPONSE_LIMIT_BYTES } from '../../lib/platform/settings.ts';
import { latestCredentials, rememberCredentials } from './credentials.ts';
import { fcInvocation, toRequest, type FcContext, type FcInvocation } from './event.ts';

const routed = cloudHandler<Buffer | string, FcInvocation>(
  routerPerColdStart(process.env, { credentials: latestCredentials }),
  { toRequest, platformLimitBytes: FC_RESPONSE_LIMIT_BYTES },
);

export function handler(payload: Buffer | string, context?: FcContext): Promise<HttpResult> {
  const invocation = fcInvocation(context);
  rememberCredentials(invocation.credentials);
  return routed(payload, invocation);
}

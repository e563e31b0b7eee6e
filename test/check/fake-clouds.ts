/**
 * Local stand-ins for the two control planes `prome-route check` asks, speaking their protocols so the
 * real SDKs run against them: CloudFormation's Query protocol (form-encoded POST, SigV4 for the
 * `cloudformation` service, XML answers and error documents), and Function Compute 3.0's REST API
 * (GET /2023-03-30/functions/…, ACS3-HMAC-SHA256 signatures verified, JSON answers).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { serveOnLoopback } from '../support/loopback.ts';

export async function startFakeCloudFormation(region: string, stacks: Record<string, Record<string, string>>) {
  return serveOnLoopback((request, body, response) => {
    const form = new URLSearchParams(body.toString('utf8'));
    const signed = new RegExp(`^AWS4-HMAC-SHA256 Credential=test/\\d{8}/${region}/cloudformation/aws4_request,`).test(String(request.headers.authorization ?? ''));
    const reply = (status: number, xml: string) => response.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
    const fail = (status: number, code: string, message: string) => reply(status,
      `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
    if (!signed) return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (form.get('Action') !== 'DescribeStacks' || form.get('Version') !== '2010-05-15') return fail(400, 'InvalidAction', 'Could not find operation');
    const name = form.get('StackName') ?? '';
    const outputs = stacks[name];
    if (outputs === undefined) return fail(400, 'ValidationError', `Stack with id ${name} does not exist`);
    const members = Object.entries(outputs).map(([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`).join('');
    reply(200, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
      <StackName>${name}</StackName><StackId>arn:aws:cloudformation:${region}:123456789012:stack/${name}/${randomUUID()}</StackId>
      <CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs>
      </member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`);
  });
}

export interface FcFunctionFake {
  readonly triggerUrl: string;
  readonly environmentVariables: Record<string, string>;
}

export async function startFakeFc(keys: Map<string, string>, functions: Record<string, FcFunctionFake>) {
  return serveOnLoopback((request, body, response) => {
    const reply = (status: number, document: unknown) => response.writeHead(status, { 'content-type': 'application/json', 'x-acs-request-id': randomUUID() }).end(JSON.stringify(document));
    const problem = signatureProblem(request, body, keys);
    if (problem !== undefined) return reply(403, { Code: problem, Message: 'the request signature does not match', RequestId: randomUUID() });
    const match = /^\/2023-03-30\/functions\/([^/]+)(\/triggers\/([^/]+))?$/.exec(new URL(request.url ?? '/', 'http://fc').pathname);
    const fn = match === null ? undefined : functions[decodeURIComponent(match[1]!)];
    if (request.method !== 'GET' || fn === undefined) return reply(404, { Code: 'FunctionNotFound', Message: `function not found`, RequestId: randomUUID() });
    if (match![3] === undefined) return reply(200, { functionName: match![1], runtime: 'nodejs20', environmentVariables: fn.environmentVariables });
    if (match![3] !== 'http') return reply(404, { Code: 'TriggerNotFound', Message: 'trigger not found', RequestId: randomUUID() });
    reply(200, { triggerName: 'http', triggerType: 'http', httpTrigger: { urlInternet: fn.triggerUrl, urlIntranet: fn.triggerUrl.replace('127.0.0.1', 'localhost') } });
  });
}

/** ACS3-HMAC-SHA256, as FC 3.0 checks it: the canonical request's hash signed with the key's secret. */
function signatureProblem(request: IncomingMessage, body: Buffer, keys: ReadonlyMap<string, string>): string | undefined {
  const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(String(request.headers.authorization ?? ''));
  const secret = match === null ? undefined : keys.get(match[1]!);
  if (match === null || secret === undefined) return 'InvalidAccessKeyId';
  const hashed = createHash('sha256').update(body).digest('hex');
  if (request.headers['x-acs-content-sha256'] !== hashed) return 'ContentSHA256Mismatch';
  const url = new URL(request.url ?? '/', 'http://fc');
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort().join('&');
  const signedHeaders = match[2]!.split(';');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${String(request.headers[name] ?? '').trim()}\n`).join('');
  const canonical = [request.method, url.pathname, query, canonicalHeaders, match[2], hashed].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  return createHmac('sha256', secret).update(toSign).digest('hex') === match[3] ? undefined : 'SignatureDoesNotMatch';
}

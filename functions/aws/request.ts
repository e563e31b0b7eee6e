// API Gateway proxy events as Web Requests: REST APIs and HTTP API payload 1.0 (`httpMethod`, decoded
// multi-value maps), HTTP API payload 2.0 (`requestContext.http`, raw query string, cookies array).
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

export function toRequest(event: ApiGatewayEvent, requestId: string): Request {
  const v1 = 'httpMethod' in event;
  const method = v1 ? event.httpMethod : event.requestContext.http.method;
  // v1: requestContext.path is the path the client asked for, stage or base path mapping included
  // (`/prod/api/v1/query`); `path` lacks the stage. The core finds `/api/v1/` wherever it starts.
  const path = v1 ? (event.requestContext.path ?? event.path) : event.rawPath;
  // v2: repeated parameters (match[]) survive only in rawQueryString; queryStringParameters joins them with commas.
  const query = v1 ? v1Query(event) : event.rawQueryString;
  const headers = v1 ? v1Headers(event) : v2Headers(event);
  // The core logs x-request-id: Lambda's request id ties its line to the invocation's START/REPORT lines.
  if (!headers.has('x-request-id')) headers.set('x-request-id', requestId);
  const url = new URL(`https://${event.requestContext.domainName ?? 'localhost'}`);
  url.pathname = path;
  url.search = query;
  const body = event.body === null || event.body === undefined || method === 'GET' || method === 'HEAD'
    ? undefined
    // HTTP APIs hand form POSTs over in base64; REST APIs do for binaryMediaTypes.
    : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  return new Request(url, { method, headers, body });
}

function v1Query(event: APIGatewayProxyEvent): string {
  const query = new URLSearchParams();
  appendAll(query, event.multiValueQueryStringParameters, event.queryStringParameters);
  return query.toString();
}

function v1Headers(event: APIGatewayProxyEvent): Headers {
  const headers = new Headers();
  appendAll(headers, event.multiValueHeaders, event.headers);
  return headers;
}

/** REST API events carry each map twice: every value (`multiValue…`) when present, else the last one. */
function appendAll(
  target: { append(name: string, value: string): void },
  multi: Record<string, string[] | undefined> | null | undefined,
  single: Record<string, string | undefined> | null | undefined,
): void {
  if (multi) {
    for (const [name, values] of Object.entries(multi)) for (const value of values ?? []) target.append(name, value);
  } else {
    for (const [name, value] of Object.entries(single ?? {})) if (value !== undefined) target.append(name, value);
  }
}

function v2Headers(event: APIGatewayProxyEventV2): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
  // Payload 2.0 moves the Cookie header into `cookies`.
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
  return headers;
}

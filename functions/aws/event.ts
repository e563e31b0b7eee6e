// API Gateway proxy events as Web Requests: REST APIs and HTTP API payload 1.0 (`httpMethod`, decoded
// multi-value maps), HTTP API payload 2.0 (`requestContext.http`, raw query string, cookies array).
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { toWebRequest } from '../../lib/platform/request.ts';

export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** The event as the Request the client sent; the URL from the path and query only. */
export function toRequest(event: ApiGatewayEvent, context: { readonly awsRequestId: string }): Request {
  const v1 = 'httpMethod' in event;
  return toWebRequest({
    method: v1 ? event.httpMethod : event.requestContext.http.method,
    // v1: requestContext.path is the path the client asked for, stage or base path mapping included
    // (`/prod/api/v1/query`); `path` lacks the stage. The core finds `/api/v1/` wherever it starts.
    path: v1 ? (event.requestContext.path ?? event.path) : event.rawPath,
    // v2: repeated parameters (match[]) survive only in rawQueryString; queryStringParameters joins them with commas.
    query: v1 ? v1Query(event) : event.rawQueryString,
    headers: v1 ? v1Headers(event) : v2Headers(event),
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    // Lambda's request id ties the router's log line to the invocation's START/REPORT lines.
    requestId: context.awsRequestId,
  });
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

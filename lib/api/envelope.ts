// The Prometheus HTTP API's JSON envelope. Every answer of the router uses it, errors included, with
// the status codes Prometheus uses (lib/errors.ts), so Grafana shows router errors like Prometheus errors.
import type { ApiError } from '../errors.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/**
 * An answer's JSON body as the router writes it: text, bytes, or bytes as they stream from a
 * collector. The query paths hand bodies to each other (the results cache takes computed parts apart)
 * and make a Response only at the end: a Response read back is a web stream built and drained.
 */
export type JsonBody = string | Uint8Array | ReadableStream<Uint8Array>;

/** A JSON response whose body is already serialised (or streamed) by someone else. */
export function rawJsonResponse(body: JsonBody, status = 200): Response {
  return new Response(body as BodyInit, { status, headers: JSON_HEADERS });
}

/** A JSON answer gzipped already (assembled from the results cache for a client that takes gzip). */
export function gzippedJsonResponse(body: Uint8Array): Response {
  return new Response(body as BodyInit, { headers: GZIPPED_JSON_HEADERS });
}

const GZIPPED_JSON_HEADERS = { ...JSON_HEADERS, 'content-encoding': 'gzip', vary: 'accept-encoding' };

/** The success envelope; `warnings` only when there are some, as Prometheus writes it. */
export function successEnvelope(data: unknown, warnings: readonly string[] = []): Record<string, unknown> {
  return warnings.length > 0 ? { status: 'success', data, warnings } : { status: 'success', data };
}

export function success(data: unknown, warnings: readonly string[] = []): Response {
  return jsonResponse(successEnvelope(data, warnings));
}

export function failure(err: ApiError, warnings: readonly string[] = []): Response {
  const body: Record<string, unknown> = { status: 'error', errorType: err.errorType, error: err.message };
  if (warnings.length > 0) body.warnings = warnings;
  return jsonResponse(body, err.status);
}

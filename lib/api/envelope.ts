// The Prometheus HTTP API's JSON envelope. Every answer of the router uses it, errors included, with
// the status codes Prometheus uses, so Grafana shows router errors like Prometheus errors.

// `unauthorized` is the router's own (Prometheus has no authentication); clients show its message.
export type ErrorType =
  'bad_data' | 'execution' | 'timeout' | 'unavailable' | 'internal' | 'not_found' | 'canceled' | 'unauthorized';

const STATUS: Record<ErrorType, number> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  unavailable: 503,
  internal: 500,
  not_found: 404,
  canceled: 499,
  unauthorized: 401,
};

const ERROR_TYPES = new Set<string>(Object.keys(STATUS));

export class ApiError extends Error {
  readonly status: number;
  constructor(readonly errorType: ErrorType, message: string, status?: number) {
    super(message);
    this.status = status ?? STATUS[errorType];
  }
}

export function asErrorType(value: unknown): ErrorType | null {
  return typeof value === 'string' && ERROR_TYPES.has(value) ? (value as ErrorType) : null;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** A JSON response whose body is already serialised (or streamed) by someone else. */
export function rawJsonResponse(body: string | Uint8Array | ReadableStream<Uint8Array>, status = 200): Response {
  return new Response(body as BodyInit, { status, headers: JSON_HEADERS });
}

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

// The router's errors, in a module of their own so that every layer can throw them without importing
// the layers above it. Each ends up as a Prometheus error envelope with Prometheus's status code.

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

/** An error answered as Prometheus's API answers it: its errorType and HTTP status. */
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

/** An error Prometheus reports from evaluation (errorType "execution", HTTP 422) or from bad input. */
export class EvaluationError extends Error {
  constructor(message: string, readonly errorType: 'execution' | 'bad_data' = 'execution') {
    super(message);
  }
}

/** A query construct whose answer the router cannot make exact (a 422 naming the shards it reads). */
export class UnsupportedQueryError extends Error {}

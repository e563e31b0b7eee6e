// The knobs a cloud deployment reads from its environment, with the platforms' limits as defaults.
import { DEFAULT_TIMEOUT_MS } from '../api/router.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Time kept back from the function's own timeout: the core must answer (with a Prometheus `timeout`
 * error if need be) while there is still time to read, compress and hand its answer over.
 */
export const DEADLINE_MARGIN_MS = 1_500;

/** The result must be read and compressed by this long before the function's end. */
export const RESULT_MARGIN_MS = 1_000;

/** Whatever still runs this long before the function's end is cut short with a Prometheus timeout. */
export const BACKSTOP_MARGIN_MS = 500;

/**
 * Lambda refuses results over 6 MiB (the serialised JSON object, after base64) and API Gateway answers
 * 502 for it. The body may take all but 100 KiB, left for the status, headers and JSON framing.
 */
export const AWS_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024 - 100 * 1024;

/**
 * FC documents 32 MB for a synchronous invocation's payload but no figure for an HTTP trigger's
 * result, so stay well below that; RESPONSE_LIMIT_BYTES overrides it once measured.
 */
export const FC_RESPONSE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The core's deadline: ROUTER_TIMEOUT_MS (default 25 s, below API Gateway's 29/30 s and Grafana's
 * 30 s), never beyond the function's own time less the margin.
 */
export function routerTimeoutMs(env: Environment, functionTimeMs: number): number {
  const configured = positiveInteger(env, 'ROUTER_TIMEOUT_MS') ?? DEFAULT_TIMEOUT_MS;
  return Math.max(1, Math.min(configured, functionTimeMs - DEADLINE_MARGIN_MS));
}

/** The most a response body may take once serialised into the platform's result (RESPONSE_LIMIT_BYTES). */
export function responseLimitBytes(env: Environment, platformLimit: number): number {
  return positiveInteger(env, 'RESPONSE_LIMIT_BYTES') ?? platformLimit;
}

function positiveInteger(env: Environment, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

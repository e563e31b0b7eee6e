// Calls one shard's collector: replicas in order of preference, a deadline shared by all attempts,
// and every failure turned into a Prometheus-style error that names the shard.
import { ApiError, asErrorType } from '../errors.ts';
import type { Shard } from '../shards/schema.ts';
import type { AnswerBytes } from './answer-bytes.ts';
import { brokeOff, notAnAnswer } from './checked-body.ts';
import { readBody, readUpTo, send, type CollectorAnswer } from './http.ts';
import { decodeSamples, SampleShapeError } from './decode.ts';
import { AnswerShapeError, JsonSyntaxError, scanAnswer, type ScannedAnswer } from './json-scan.ts';

export interface CollectorCall {
  /** API path below the collector's base URL, e.g. `/api/v1/query`. */
  readonly path: string;
  readonly params: URLSearchParams;
  /**
   * POST sends long parameters as a form body, so long queries never hit URL length limits; short
   * ones still go in the URL (GET), which costs both sides less.
   */
  readonly method: 'GET' | 'POST';
  /** Epoch milliseconds by which the answer must have arrived. */
  readonly deadline: number;
}

/** Headroom left between the collector's own query timeout and the router's deadline. */
const COLLECTOR_TIMEOUT_HEADROOM_MS = 250;
/** Parameters up to this long go in the URL even for POST calls: far below any URL length limit. */
const MAX_URL_PARAMS = 2048;
/** The longest error body read from a collector; error texts are short. */
const MAX_ERROR_BODY = 64 * 1024;

/** One replica's outcome: its answer, or an error and whether another replica may do better. */
type Outcome = { readonly response: CollectorAnswer } | { readonly error: ApiError; readonly retry: boolean };

/**
 * The answer of one shard: a 2xx response whose body has not been read yet. Replicas are asked in
 * order; with `hedgeAfterMs`, a first replica slower than that gets the second one asked as well.
 */
export async function callShard(shard: Shard, call: CollectorCall): Promise<CollectorAnswer> {
  const failures: ApiError[] = [];
  let next = 0;
  if (shard.hedgeAfterMs !== undefined && shard.urls.length > 1) {
    const outcome = await hedgedPair(shard, call, shard.hedgeAfterMs, failures);
    if ('response' in outcome) return outcome.response;
    if (!outcome.retry) throw outcome.error;
    next = 2;
  }
  for (let i = next; i < shard.urls.length && call.deadline > Date.now(); i++) {
    const outcome = await askReplica(shard, i, call);
    if ('response' in outcome) return outcome.response;
    if (!outcome.retry) throw outcome.error;
    failures.push(outcome.error);
  }
  throw failures.at(-1) ?? timeoutError(shard);
}

/**
 * Asks replica 0, and replica 1 too once replica 0 has been silent for `delay` (or has failed). The
 * first answer wins and the other request is cancelled: one query's answer is never taken twice.
 */
function hedgedPair(shard: Shard, call: CollectorCall, delay: number, failures: ApiError[]): Promise<Outcome> {
  const cancels = [new AbortController(), new AbortController()];
  return new Promise((resolve) => {
    let settled = false;
    let running = 0;
    let hedged = false;
    // The winner's request stays open: its body is still to be read.
    const finish = (outcome: Outcome, winner = -1) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cancels.forEach((c, i) => i !== winner && c.abort());
      resolve(outcome);
    };
    const start = (i: number) => {
      running++;
      void askReplica(shard, i, call, cancels[i]!.signal).then((outcome) => {
        running--;
        if ('response' in outcome) {
          if (settled) outcome.response.body.destroy();
          else finish(outcome, i);
        } else if (!outcome.retry) {
          finish(outcome);
        } else if (!settled) {
          failures.push(outcome.error);
          if (!hedged) hedge();
          else if (running === 0) finish(outcome);
        }
      });
    };
    const hedge = () => {
      if (hedged || settled) return;
      hedged = true;
      start(1);
    };
    const timer = setTimeout(hedge, delay);
    start(0);
  });
}

async function askReplica(shard: Shard, index: number, call: CollectorCall, cancel?: AbortSignal): Promise<Outcome> {
  const base = shard.urls[index]!;
  const remaining = call.deadline - Date.now();
  if (remaining <= 0) return { error: timeoutError(shard), retry: false };
  let response: CollectorAnswer;
  try {
    response = await attempt(shard, base, call, remaining, cancel);
  } catch (err) {
    return { error: transportError(shard, base, index, err, remaining), retry: true };
  }
  if (response.status >= 200 && response.status < 300) {
    // Prometheus always answers its API in JSON; anything else with a 2xx is a proxy's or load
    // balancer's page, which must not reach Grafana as an answer.
    const type = response.contentType;
    if (type.includes('json')) return { response };
    response.body.destroy();
    const what = type === '' ? 'no content type' : type.split(';')[0];
    return { error: new ApiError('unavailable', `shard ${JSON.stringify(shard.name)}: collector ${replicaName(base, index)} answered ${what}, not JSON`), retry: true };
  }
  if (response.status < 400) {
    // A redirect (or a status no Prometheus API answers with) is never followed: collectors are
    // reached only at the shard map's addresses. Another replica may answer properly.
    response.body.destroy();
    return { error: new ApiError('unavailable', `shard ${JSON.stringify(shard.name)}: collector ${replicaName(base, index)} answered HTTP ${response.status}, not an answer (redirects are not followed)`), retry: true };
  }
  // 4xx and 422 are answers about the request (bad query, execution error): another replica
  // would say the same. 5xx means this replica is unwell: try the next one.
  return { error: await collectorError(shard, response), retry: response.status >= 500 };
}

async function attempt(shard: Shard, base: string, call: CollectorCall, remaining: number, cancel?: AbortSignal): Promise<CollectorAnswer> {
  const params = new URLSearchParams(call.params);
  if (call.path.endsWith('/query') || call.path.endsWith('/query_range')) {
    // Ask the collector to stop in time to say so itself, rather than being cut off.
    // The router's deadline already includes the caller's own `timeout`.
    params.set('timeout', String(Math.max(remaining - COLLECTOR_TIMEOUT_HEADROOM_MS, 1) / 1000));
  }
  const headers: Record<string, string> = { ...shard.headers, 'accept-encoding': 'identity' };
  const timeoutMs = Math.min(remaining, shard.timeoutMs ?? remaining);
  const query = params.toString();
  if (call.method === 'POST' && query.length > MAX_URL_PARAMS) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return send(base, call.path, { method: 'POST', headers, body: query, timeoutMs, cancel });
  }
  return send(base, query === '' ? call.path : `${call.path}?${query}`, { method: 'GET', headers, timeoutMs, cancel });
}

interface ErrorEnvelope { errorType?: unknown; error?: unknown }

export async function collectorError(shard: Shard, response: CollectorAnswer): Promise<ApiError> {
  const text = (await readBody(response.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0))).toString('utf8');
  let envelope: ErrorEnvelope | null = null;
  try {
    envelope = JSON.parse(text) as ErrorEnvelope;
  } catch {
    // Not JSON: a load balancer's HTML page, a truncated body. Reported below by status.
  }
  const type = asErrorType(envelope?.errorType);
  if (type !== null && typeof envelope?.error === 'string') {
    return new ApiError(type, `shard ${JSON.stringify(shard.name)}: ${envelope.error}`, response.status);
  }
  const snippet = text.slice(0, 200).replace(/\s+/g, ' ').trim();
  return new ApiError(
    response.status >= 500 ? 'unavailable' : 'bad_data',
    `shard ${JSON.stringify(shard.name)}: collector answered HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`,
    response.status >= 500 ? 503 : response.status,
  );
}

export function transportError(shard: Shard, base: string, replica: number, err: unknown, budget: number): ApiError {
  const name = (err as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ApiError('timeout', `shard ${JSON.stringify(shard.name)}: collector ${replicaName(base, replica)} did not answer within ${(budget / 1000).toFixed(1)}s`);
  }
  const reason = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
  return new ApiError('unavailable', `shard ${JSON.stringify(shard.name)}: cannot reach collector ${replicaName(base, replica)}: ${reason}`);
}

export function timeoutError(shard: Shard): ApiError {
  return new ApiError('timeout', `shard ${JSON.stringify(shard.name)}: no time left to ask the collector`);
}

/** Names a replica by host and position, never with credentials or paths. */
export function replicaName(base: string, replica: number): string {
  return `#${replica + 1} (${new URL(base).host})`;
}

/**
 * A collector's whole answer body, within what the request may still read whole: past that, an error
 * about the query (it would be as large everywhere); a body that breaks off, the shard's failure.
 */
export async function readWhole(shard: Shard, response: CollectorAnswer, budget: AnswerBytes): Promise<Buffer> {
  let read: { chunks: Buffer[]; complete: boolean };
  try {
    read = await readUpTo(response.body, Infinity, budget);
  } catch (err) {
    throw brokeOff(shard.name, err);
  }
  if (!read.complete) {
    response.body.destroy();
    throw budget.exceeded(shard.name);
  }
  return Buffer.concat(read.chunks);
}

/**
 * Reads a collector's success envelope as JSON, within what the request may still read whole; a body
 * that is not one is an error naming the shard.
 */
export async function readEnvelope<T>(shard: Shard, response: CollectorAnswer, budget: AnswerBytes): Promise<{ data: T; warnings: string[]; bytes: number }> {
  const raw = await readWhole(shard, response, budget);
  let body: { status?: unknown; data?: unknown; warnings?: unknown };
  try {
    body = JSON.parse(raw.toString('utf8')) as typeof body;
  } catch (err) {
    throw new ApiError('unavailable', `shard ${JSON.stringify(shard.name)}: collector answered invalid JSON (${(err as Error).message})`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw notAnAnswer(shard.name, 'the answer is not a JSON object');
  if (body.status !== 'success') {
    const reason = typeof (body as { error?: unknown }).error === 'string' ? `: ${(body as { error: string }).error}` : '';
    throw notAnAnswer(shard.name, `status ${JSON.stringify(body.status ?? null)} in a 2xx answer${reason}`);
  }
  if (!('data' in body)) throw notAnAnswer(shard.name, 'no "data"');
  const warnings = Array.isArray(body.warnings) ? body.warnings.filter((w): w is string => typeof w === 'string') : [];
  return { data: body.data as T, warnings, bytes: raw.byteLength };
}

/** A query answer as read from a collector: its bytes and where its parts stand. */
export interface QueryAnswer {
  readonly body: Buffer;
  readonly answer: ScannedAnswer;
}

const RESULT_TYPES = new Set(['vector', 'matrix', 'scalar', 'string']);

/** Decoding only to check: no sample is on any grid. */
const NOWHERE = () => -1;

/**
 * Reads a collector's query answer, within what the request may still read whole, and checks that it
 * is a success envelope with a result of a known type and shape, without building its object tree.
 * Anything else is a failure of the shard (its answer cannot be used), a larger answer an error about
 * the query (it would be larger everywhere), each naming the shard.
 */
export async function readQueryAnswer(shard: Shard, response: CollectorAnswer, shardLabel: string, budget: AnswerBytes): Promise<QueryAnswer> {
  const body = await readWhole(shard, response, budget);
  let answer: ScannedAnswer;
  try {
    answer = scanAnswer(body, shardLabel);
  } catch (err) {
    if (err instanceof AnswerShapeError) throw notAnAnswer(shard.name, err.message);
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new ApiError('unavailable', `shard ${JSON.stringify(shard.name)}: collector answered invalid JSON (${err.message})`);
  }
  if (answer.status !== 'success') {
    throw notAnAnswer(shard.name, `status ${JSON.stringify(answer.status)} in a 2xx answer${answer.error === null ? '' : `: ${answer.error}`}`);
  }
  if (answer.resultType === null || !RESULT_TYPES.has(answer.resultType) || answer.result === null) {
    throw notAnAnswer(shard.name, `resultType ${JSON.stringify(answer.resultType)} where the router expected a query result`);
  }
  if (answer.elements < 0) throw notAnAnswer(shard.name, '"result" is not an array');
  if (answer.resultType === 'vector' || answer.resultType === 'matrix') {
    if (answer.series.length !== answer.elements) throw notAnAnswer(shard.name, 'a series that is not an object');
  } else if (answer.elements !== 2 || answer.series.length !== 0) {
    throw notAnAnswer(shard.name, `a ${answer.resultType} result that is not [time, value]`);
  }
  // Samples the scan could not check on its way (not in Prometheus's compact shape): checked here.
  try {
    if (answer.resultType === 'scalar') decodeSamples(body, answer.result, NOWHERE);
    for (const s of answer.series) if (s.samples !== null && !s.compact) decodeSamples(body, s.samples, NOWHERE);
  } catch (err) {
    if (err instanceof SampleShapeError) throw notAnAnswer(shard.name, `samples that are not [time, "value"] pairs (${err.message})`);
    throw err;
  }
  return { body, answer };
}

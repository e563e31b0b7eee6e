import * as v from 'valibot';
import { mergesReplicas, type ShardMap, type Shard } from '../shards/schema.ts';
import { mergedQuery, settleReplicas, type ReplicaIo } from '../replicas/merged-query.ts';
import type { SelectionRules } from '../replicas/merged-leaf.ts';
import type { AnswerBytes } from '../collectors/answer-bytes.ts';
import { notAnAnswer } from '../collectors/checked-body.ts';
import { callShard, readEnvelope, readQueryAnswer, type CollectorCall } from '../collectors/client.ts';
import { ENGINE_MAJOR } from '../engine/compile.ts';
import type { Remote } from '../engine/remote.ts';
import type { CollectorAnswer } from '../collectors/http.ts';
import { fanOut, partialWarnings } from '../collectors/failures.ts';
import { rawJsonResponse, successEnvelope } from './envelope.ts';
import { ApiError } from '../errors.ts';
import type { Major } from '../promql/function-table.ts';
import type { Limits } from './limits.ts';
import type { StatsSum } from './query-stats.ts';
import type { RequestTrace } from './trace.ts';
import type { CacheUse, ResultsCache } from '../cache/results.ts';
import { majorOf, type ShardVersions } from './versions.ts';
import { lookbackMs } from './lookback.ts';

/** What every endpoint handler gets: the shard map in force, the merged parameters, the deadline. */
export interface RequestContext {
  readonly map: ShardMap;
  readonly params: URLSearchParams;
  /** Epoch milliseconds by which the whole answer must be ready. */
  readonly deadline: number;
  /**
   * All shards or nothing: no partial answers. Set by `partial_response=false` (Thanos's parameter)
   * and by Grafana's alert evaluation (`FromAlert: true`), where missing data would fire or hide alerts.
   */
  readonly strict: boolean;
  /** At most this many requests at once to one shard for this request (different shards: all at once). */
  readonly shardConcurrency: number;
  /** Push decomposable aggregations down to the shards (off only to measure what it saves). */
  readonly pushDown: boolean;
  readonly trace: RequestTrace;
  readonly limits: Limits;
  /** What the request may still read of collector answers parsed whole (limits.maxCollectorBytes). */
  readonly answerBytes: AnswerBytes;
  /** The tenant whose view of the map `map` is; null for the router-wide view. */
  readonly tenant: string | null;
  /** The results cache for range queries; null: none configured. */
  readonly cache: ResultsCache | null;
  /** What the cache did for this request (log line, metrics, X-Cache header). */
  readonly cacheUse: CacheUse;
  /** Each shard's Prometheus major (cached across requests). */
  readonly versions: ShardVersions;
  /** The major whose regexes pick shards by their names (see versions.ts). */
  readonly shardRegexMajor: Major;
  /** The client takes gzip (encoding.ts): answers from the results cache are then sent compressed as stored. */
  readonly acceptsGzip: boolean;
}

/** A success envelope for an answer the router built, refused when it outgrows the response limit. */
export function dataBody(ctx: RequestContext, data: unknown, warnings: readonly string[] = []): string {
  const body = JSON.stringify(successEnvelope(data, warnings));
  // Characters first (each is at least a byte): the bytes are counted only where they may tell.
  if (body.length > ctx.limits.maxResponseBytes || (body.length * 3 > ctx.limits.maxResponseBytes && Buffer.byteLength(body) > ctx.limits.maxResponseBytes)) {
    throw tooLarge(ctx);
  }
  return body;
}

export function respond(ctx: RequestContext, data: unknown, warnings: readonly string[] = []): Response {
  return rawJsonResponse(dataBody(ctx, data, warnings));
}

/** An answer assembled from pieces of bytes (a union of shards' answers, stored extents), under the same limit. */
export function piecesBody(ctx: RequestContext, pieces: readonly Buffer[]): Buffer {
  return Buffer.concat(pieces, checkedAnswerSize(ctx, pieces));
}

/** The bytes the pieces make; refused past the response limit. */
export function checkedAnswerSize(ctx: RequestContext, pieces: readonly Buffer[]): number {
  const size = pieces.reduce((sum, p) => sum + p.byteLength, 0);
  if (size > ctx.limits.maxResponseBytes) throw tooLarge(ctx);
  return size;
}

function tooLarge(ctx: RequestContext): ApiError {
  return new ApiError('execution', `the answer is larger than ${ctx.limits.maxResponseBytes} bytes: narrow the time range, raise the step or select fewer series`);
}

/**
 * The engine's way to the shards for this request: its deadline, trace and limits. Where the caller
 * asked for statistics (`stats=`), every collector is asked with the same value and its statistics
 * go into `stats`.
 */
export function remoteFor(ctx: RequestContext, stats: StatsSum | null = null): Remote {
  const { shardLabel } = ctx.map;
  const statsParam = ctx.params.get('stats') ?? '';
  const lookbackParam = ctx.params.get('lookback_delta') ?? '';
  // The router evaluates a merged shard's leaves as its replicas would, with their version's rules:
  // worked out once per shard for the request, not for each of its leaf requests.
  const rulesByShard = new Map<string, Promise<SelectionRules>>();
  const selectionRules = (shard: string): Promise<SelectionRules> => {
    let rules = rulesByShard.get(shard);
    if (rules === undefined) {
      rules = ctx.versions.versions(ctx.map).then((versions) => {
        const version = versions.get(shard) ?? null;
        return { major: (version === null ? null : majorOf(version)) ?? ENGINE_MAJOR, lookbackMs: lookbackMs(ctx.params, version) };
      });
      rulesByShard.set(shard, rules);
    }
    return rules;
  };
  return {
    shardLabel,
    async query(shard, query, grid) {
      const target = shardNamed(ctx, shard);
      if (mergesReplicas(target)) {
        const answer = await mergedQuery(target, shardLabel, query, grid, await selectionRules(shard), replicaIo(ctx, shard));
        // Remote read has no query statistics: the sum says it lacks some.
        stats?.add(undefined);
        return answer;
      }
      const instant = grid.start === grid.end;
      const params = new URLSearchParams({ query });
      if (stats !== null && statsParam !== '') params.set('stats', statsParam);
      // Each collector reads it as its own version does (ignored before Prometheus 2.43), as when it answers alone.
      if (lookbackParam !== '') params.set('lookback_delta', lookbackParam);
      if (instant) {
        params.set('time', seconds(grid.start));
      } else {
        params.set('start', seconds(grid.start));
        params.set('end', seconds(grid.end));
        params.set('step', seconds(grid.step));
      }
      const path = instant ? '/api/v1/query' : '/api/v1/query_range';
      const response = await askShard(ctx, { shard, path, params, method: 'POST' });
      const answer = await readQueryAnswer(shardNamed(ctx, shard), response, shardLabel, ctx.answerBytes);
      ctx.trace.addBytes(shard, answer.body.byteLength);
      if (stats !== null) {
        const span = answer.answer.stats;
        stats.add(span === null ? undefined : JSON.parse(answer.body.toString('utf8', span.from, span.to)));
      }
      return answer;
    },
  };
}

/** What reading a merged shard's replicas needs from the request: its deadline, budget and trace. */
export function replicaIo(ctx: RequestContext, shard: string): ReplicaIo {
  return {
    deadline: ctx.deadline,
    budget: ctx.answerBytes,
    visited: (ms, ok, bytes) => {
      ctx.trace.record(shard, ms, ok);
      if (bytes === null) return;
      ctx.trace.addBytes(shard, bytes.wire);
      ctx.trace.addRemoteRead(shard, bytes.type);
    },
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export function shardNamed(ctx: RequestContext, name: string): Shard {
  const shard = ctx.map.shards.get(name);
  if (shard === undefined) throw new ApiError('internal', `shard ${JSON.stringify(name)} is not in the shard map`);
  return shard;
}

export type ShardCall = Omit<CollectorCall, 'deadline'> & {
  readonly shard: string;
  /** Only this replica (an index into the shard's urls); absent: the replicas in order until one answers. */
  readonly replica?: number;
};

/** Asks one shard within the request's deadline, recording the visit in the request's trace. */
export async function askShard(ctx: RequestContext, call: ShardCall): Promise<CollectorAnswer> {
  const started = performance.now();
  const shard = shardNamed(ctx, call.shard);
  const target = call.replica === undefined ? shard : { ...shard, urls: [shard.urls[call.replica]!], hedgeAfterMs: undefined };
  try {
    const response = await callShard(target, { ...call, deadline: ctx.deadline });
    ctx.trace.record(call.shard, performance.now() - started, true);
    return response;
  } catch (err) {
    ctx.trace.record(call.shard, performance.now() - started, false);
    throw err;
  }
}

/**
 * Asks one shard and reads its success envelope; `data` must fit `schema` where one is given: a
 * collector answering another shape is a shard failure, whatever the shape (null, a nested bomb).
 */
export async function askShardJson<T>(ctx: RequestContext, call: ShardCall, schema?: v.GenericSchema<unknown, T>): Promise<{ data: T; warnings: string[] }> {
  const response = await askShard(ctx, call);
  const { data, warnings, bytes } = await readEnvelope<T>(shardNamed(ctx, call.shard), response, ctx.answerBytes);
  ctx.trace.addBytes(call.shard, bytes);
  if (schema !== undefined) {
    const checked = v.safeParse(schema, data);
    // The answer itself is used, not valibot's copy of it: that copy leaves out keys such as "__proto__".
    if (!checked.success) throw notAnAnswer(call.shard, describeIssue(checked.issues[0]));
  }
  return { data, warnings };
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? []).map((step) => (typeof step.key === 'number' ? `[${step.key}]` : `.${String(step.key)}`)).join('');
  return `data${path}: ${issue.message}`;
}

export interface ShardEnvelope<T> {
  readonly shard: string;
  readonly data: T;
  readonly warnings: readonly string[];
}

export interface ShardEnvelopes<T> {
  readonly answers: ShardEnvelope<T>[];
  /** Collector warnings and, for shards that failed while partial answers are allowed, one each. */
  readonly warnings: string[];
}

/**
 * Calls several shards, a bounded number at a time, and reads their success envelopes, whose data must
 * fit `schema`. A shard that cannot answer (or answers nonsense) is left out with a warning, or fails the request when the request is strict; an error
 * about the request itself (bad_data, execution) always fails it.
 */
export async function askShards<T>(
  ctx: RequestContext, calls: readonly ShardCall[], schema: v.GenericSchema<unknown, T>, unite?: (replicas: T[]) => T,
): Promise<ShardEnvelopes<T>> {
  const answers: ShardEnvelope<T>[] = [];
  const failed = await fanOut(calls, (call) => call.shard, { concurrency: ctx.shardConcurrency, partial: !ctx.strict }, async (call) => {
    const { data, warnings } = await askReplicasJson<T>(ctx, call, schema, unite);
    answers.push({ shard: call.shard, data, warnings: warnings.map((w) => `shard ${JSON.stringify(call.shard)}: ${w}`) });
  });
  // Answers in the order the calls were made (shard map order), whatever order they arrived in.
  const order = new Map(calls.map((c, i) => [c.shard, i]));
  answers.sort((a, b) => order.get(a.shard)! - order.get(b.shard)!);
  return { answers, warnings: [...answers.flatMap((a) => a.warnings), ...partialWarnings(failed)] };
}

/**
 * A shard's answer, or with `unite` and a shard whose replicas are merged, every replica's answer made
 * one by `unite`: a replica that fails is a warning while another answers (settleReplicas).
 */
async function askReplicasJson<T>(ctx: RequestContext, call: ShardCall, schema: v.GenericSchema<unknown, T>, unite?: (replicas: T[]) => T): Promise<{ data: T; warnings: string[] }> {
  const shard = shardNamed(ctx, call.shard);
  if (unite === undefined || !mergesReplicas(shard) || shard.urls.length === 1) return askShardJson<T>(ctx, call, schema);
  const outcomes = await Promise.allSettled(shard.urls.map((_url, replica) => askShardJson<T>(ctx, { ...call, replica }, schema)));
  const { replicas, warnings } = settleReplicas(outcomes);
  return { data: unite(replicas.map((r) => r.data)), warnings: [...replicas.flatMap((r) => r.warnings), ...warnings] };
}

/**
 * Runs `use` against the shards in map order until one answers: for requests any collector can serve
 * (`1+1`, buildinfo). Only an unreachable or overloaded collector moves on to the next.
 */
export async function withAnyShard<T>(ctx: RequestContext, use: (shard: string) => Promise<T>): Promise<T> {
  let last: unknown = new ApiError('unavailable', 'the shard map names no shard');
  for (const name of ctx.map.shards.keys()) {
    try {
      return await use(name);
    } catch (err) {
      if (!(err instanceof ApiError) || (err.errorType !== 'unavailable' && err.errorType !== 'timeout')) throw err;
      last = err;
      if (Date.now() >= ctx.deadline) break;
    }
  }
  throw last;
}

// query_range through the results cache (lib/cache): the parts of the grid the cache lacks are
// computed as any range query is (query.ts), with the same deadline, limits and trace; the answer is
// assembled from stored and computed extents and, like every answer the router builds, refused when
// it outgrows the response limit.
import { windowDependence, WHOLE_WINDOW_PARAMS } from '../cache/cacheable.ts';
import { layoutOf, type StepRange } from '../cache/extents.ts';
import { extentKeyPrefix } from '../cache/key.ts';
import type { QueryPlan } from '../promql/plan.ts';
import { gzipMember } from '../cache/gzip.ts';
import { bytesOf } from '../cache/series.ts';
import { checkedAnswerSize, type RequestContext } from './context.ts';
import { gzippedJsonResponse, rawJsonResponse, type JsonBody } from './envelope.ts';
import { ApiError } from '../errors.ts';
import type { RangeParams } from './time.ts';

/** Computes a range query's answer for `range`, without the cache, as `ctx` asks it. */
export type RangeComputer = (ctx: RequestContext, range: RangeParams) => Promise<JsonBody>;

/** Passed on to collectors and changing the answer: part of the key. */
const KEYED_PARAMS = ['lookback_delta'];

export async function answerRangeCached(ctx: RequestContext, plan: QueryPlan, range: RangeParams, compute: RangeComputer): Promise<Response> {
  const cache = ctx.cache!;
  if (windowDependence(plan.root) !== null || WHOLE_WINDOW_PARAMS.some((name) => (ctx.params.get(name) ?? '') !== '')) {
    return rawJsonResponse(await compute(ctx, range));
  }
  const layout = layoutOf(range);
  const params: Record<string, string> = {};
  for (const name of KEYED_PARAMS) {
    const value = ctx.params.get(name);
    if (value !== null && value !== '') params[name] = value;
  }
  const known = await ctx.versions.majors(ctx.map);
  const majors = plan.shards.map((shard) => known.get(shard) ?? null);
  const keyPrefix = extentKeyPrefix({ tenant: ctx.tenant, map: ctx.map, query: plan.text, shards: plan.shards, layout, params, pushDown: ctx.pushDown, majors });
  const computePart = async (part: StepRange) => bodyOf(ctx, await compute(withRange(ctx, part), part));
  const pieces = await cache.answer({ keyPrefix, layout, range, deadline: ctx.deadline, compressStored: ctx.acceptsGzip }, computePart, ctx.cacheUse);
  if (pieces === null) {
    ctx.cacheUse.outcome = 'bypass';
    return rawJsonResponse(await compute(ctx, range));
  }
  // The limit first, on the plain bytes, before any compression is spent on an answer refused.
  const bytes = bytesOf(pieces);
  const size = checkedAnswerSize(ctx, bytes);
  const gzipped = ctx.acceptsGzip ? gzipMember(pieces) : null;
  return gzipped === null ? rawJsonResponse(Buffer.concat(bytes, size)) : gzippedJsonResponse(gzipped);
}

/** The request with its window replaced by a part of it; everything else (deadline, trace, limits) shared. */
function withRange(ctx: RequestContext, range: StepRange): RequestContext {
  const params = new URLSearchParams(ctx.params);
  params.set('start', (range.start / 1000).toFixed(3));
  params.set('end', (range.end / 1000).toFixed(3));
  return { ...ctx, params };
}

/**
 * A computed answer's bytes, read whole (a streamed one included); null past the response limit: such
 * an answer is not for the cache, the whole range is then computed and streamed as without it.
 */
async function bodyOf(ctx: RequestContext, body: JsonBody): Promise<Buffer | null> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return bytes.byteLength > ctx.limits.maxResponseBytes ? null : bytes;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      size += next.value.byteLength;
      if (size > ctx.limits.maxResponseBytes) {
        await reader.cancel();
        return null;
      }
      chunks.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    }
  } catch (err) {
    throw err instanceof ApiError ? err : new ApiError('unavailable', `reading a collector's answer: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, size);
}

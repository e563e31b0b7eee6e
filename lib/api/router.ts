// The platform-neutral core: a Web-standard Request in, a Prometheus API Response out. Every
// platform (local server, AWS Lambda, Alibaba FC) only translates its events to and from this.
import { AnswerBytes } from '../collectors/answer-bytes.ts';
import type { ShardMap } from '../shards/schema.ts';
import { handleBuildInfo } from './buildinfo.ts';
import { authorize, type AuthOptions } from './auth.ts';
import type { RequestContext } from './context.ts';
import { parseDurationParam } from '../promql/duration.ts';
import { acceptsGzip } from './encoding.ts';
import { failure } from './envelope.ts';
import { ApiError } from '../errors.ts';
import { handleExemplars } from './exemplars.ts';
import { handleLabelNames, handleLabelValues } from './labels.ts';
import { handleMetadata } from './metadata.ts';
import { checkQueryParams, DEFAULT_LIMITS, RateLimiter, type Limits } from './limits.ts';
import { jsonLogger, requestEntry, type Logger } from './log.ts';
import { readParams } from './params.ts';
import { handleQuery } from './query.ts';
import { handleAlerts, handleRules } from './rules.ts';
import { handleSeries } from './series.ts';
import { serverTiming } from './server-timing.ts';
import { RequestTrace } from './trace.ts';
import { unusedCache, type ResultsCache } from '../cache/results.ts';
import { shardRegexMajor, ShardVersions } from './versions.ts';

export interface RouterOptions {
  /** The shard map in force; called once per request, so it can be refreshed behind the scenes. */
  readonly shardMap: () => Promise<ShardMap>;
  /** The longest a request may take, below the caller's own timeout (default 25 s). */
  readonly timeoutMs?: number;
  /** At most this many requests at once to one shard for one request (default 4); shards are asked in parallel. */
  readonly shardConcurrency?: number;
  /** Push decomposable aggregations down to the shards (default true; off only to measure it). */
  readonly pushDown?: boolean;
  /**
   * The router-wide credential, which sees every shard; every endpoint but the health checks requires
   * it, or a tenant's token when the shard map has tenants. Neither configured: no check.
   */
  readonly auth?: AuthOptions;
  /** Where request log lines go (default: one JSON line on stdout). */
  readonly log?: Logger;
  /** Add CloudWatch embedded metric format fields to the request log lines (AWS). */
  readonly metrics?: 'emf';
  /** How old the shard map in force is, for the logs. */
  readonly shardMapAge?: () => number | null;
  /** Bounds on requests (defaults: DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
  /** The results cache for range queries (none by default). */
  readonly cache?: ResultsCache;
  /** How long each shard's build info (its Prometheus version) is kept: the shard map's TTL (default 30 s). */
  readonly shardVersionTtlMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 25_000;
export const DEFAULT_SHARD_CONCURRENCY = 4;

type Handler = (ctx: RequestContext, pathArg: string) => Promise<Response>;
interface Endpoint { readonly methods: readonly string[]; readonly handle: Handler }

const READ = ['GET', 'POST'];
const GET = ['GET'];

const API: Record<string, Endpoint> = {
  query: { methods: READ, handle: (ctx) => handleQuery(ctx, '/api/v1/query') },
  query_range: { methods: READ, handle: (ctx) => handleQuery(ctx, '/api/v1/query_range') },
  query_exemplars: { methods: READ, handle: handleExemplars },
  series: { methods: READ, handle: handleSeries },
  labels: { methods: READ, handle: handleLabelNames },
  'label/values': { methods: GET, handle: handleLabelValues },
  metadata: { methods: GET, handle: handleMetadata },
  'status/buildinfo': { methods: GET, handle: handleBuildInfo },
  rules: { methods: GET, handle: handleRules },
  alerts: { methods: GET, handle: handleAlerts },
};

export type Router = (request: Request) => Promise<Response>;

export function createRouter(options: RouterOptions): Router {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = options.log ?? jsonLogger;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const rate = new RateLimiter(limits.requestsPerSecond);
  const versions = new ShardVersions(options.shardVersionTtlMs);
  return async (request) => {
    const started = Date.now();
    const startedPrecisely = performance.now();
    const url = new URL(request.url);
    const health = healthCheck(url.pathname);
    if (health !== null) return health === 'ready' ? ready(options) : text(200, 'prome-route is Healthy.\n');

    const trace = new RequestTrace();
    const cacheUse = unusedCache();
    let endpointName = 'unknown';
    let tenant: string | null = null;
    let response: Response;
    try {
      const { name, endpoint, pathArg } = findEndpoint(url.pathname);
      endpointName = name;
      // Resolved once, here: every handler gets the map this caller may see, and nothing else.
      const access = await authorize(request, options.auth, () => loadMap(options));
      tenant = access.tenant;
      rate.take();
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      if (!endpoint.methods.includes(method)) {
        throw new ApiError('bad_data', `method ${request.method} is not allowed on ${url.pathname}`, 405);
      }
      // The deadline covers the request's own arrival: a body that trickles in must not hold a request open.
      const params = await readParams(request, url, started + timeoutMs);
      checkQueryParams(params, limits);
      let budget = timeoutMs;
      const asked = params.get('timeout');
      if (asked !== null && asked !== '') budget = Math.min(budget, parseDurationParam('timeout', asked));
      const ctx: RequestContext = {
        map: access.map,
        params,
        deadline: started + budget,
        strict: params.get('partial_response') === 'false' || request.headers.get('fromalert') === 'true',
        shardConcurrency: options.shardConcurrency ?? DEFAULT_SHARD_CONCURRENCY,
        pushDown: options.pushDown ?? true,
        trace,
        limits,
        answerBytes: new AnswerBytes(limits.maxCollectorBytes),
        tenant,
        cache: options.cache ?? null,
        cacheUse,
        versions,
        shardRegexMajor: await shardRegexMajor(versions, access.map),
        acceptsGzip: acceptsGzip(request.headers.get('accept-encoding')),
      };
      response = await endpoint.handle(ctx, pathArg);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        log({ level: 'error', msg: 'unexpected error', path: url.pathname, error: String((err as Error)?.stack ?? err) });
      }
      response = failure(err instanceof ApiError ? err : new ApiError('internal', `internal error: ${(err as Error)?.message ?? String(err)}`));
    }
    // How much of a range query's answer came from the cache, as Thanos's and Varnish's X-Cache say it.
    if (cacheUse.outcome !== 'bypass' && response.ok) response.headers.set('x-cache', cacheUse.outcome);
    const status = response.status;
    response.headers.set('server-timing', serverTiming(performance.now() - startedPrecisely, trace));
    const logRequest = () => log(requestEntry({
      requestId: request.headers.get('x-request-id') ?? crypto.randomUUID(),
      method: request.method,
      endpoint: endpointName,
      tenant,
      status,
      durationMs: Date.now() - started,
      trace,
      cache: cacheUse,
      mapAgeMs: options.shardMapAge?.() ?? null,
    }, options.metrics === 'emf'));
    // A streamed answer is logged once it has gone through, with the collector bytes it carried.
    const streaming = trace.streamsEnded();
    if (streaming === null) logRequest();
    else void streaming.then(logRequest);
    return response;
  };
}

/** `/-/healthy` and `/-/ready`, also below a path prefix such as a stage name. */
function healthCheck(path: string): 'healthy' | 'ready' | null {
  if (path.endsWith('/-/healthy')) return 'healthy';
  if (path.endsWith('/-/ready')) return 'ready';
  return null;
}

async function ready(options: RouterOptions): Promise<Response> {
  try {
    await options.shardMap();
    return text(200, 'prome-route is Ready.\n');
  } catch (err) {
    return text(503, `prome-route is not ready: ${(err as Error).message}\n`);
  }
}

async function loadMap(options: RouterOptions): Promise<ShardMap> {
  try {
    return await options.shardMap();
  } catch (err) {
    throw new ApiError('unavailable', `no shard map: ${(err as Error).message}`);
  }
}

/**
 * Finds the endpoint after `/api/v1/`, wherever that starts: the router may be served below a prefix
 * (`/prod/api/v1/query` behind an API Gateway stage).
 */
function findEndpoint(path: string): { name: string; endpoint: Endpoint; pathArg: string } {
  const at = path.indexOf('/api/v1/');
  if (at >= 0) {
    const rest = path.slice(at + '/api/v1/'.length);
    const labelValues = /^label\/([^/]+)\/values$/.exec(rest);
    if (labelValues !== null) return { name: 'label/values', endpoint: API['label/values']!, pathArg: decodeLabelName(labelValues[1]!) };
    const endpoint = API[rest];
    if (endpoint !== undefined) return { name: rest, endpoint, pathArg: '' };
  }
  throw new ApiError('not_found', `unknown API endpoint ${path}`);
}

function decodeLabelName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(segment)}`);
  }
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

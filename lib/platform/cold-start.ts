// The core as the cloud functions run it: one router per cold start, fed by the deployment's shard
// map source and credentials, with a deadline that fits the function's timeout.
import { authFromEnv } from '../api/auth.ts';
import { jsonLogger } from '../api/log.ts';
import { cacheSettingsFromEnv, createResultsCache } from '../cache/config.ts';
import { createRouter, type Router, type RouterOptions } from '../api/router.ts';
import type { AlibabaCredentials } from '../shards/alibaba.ts';
import { shardMapFromEnv, ttlFromEnv } from '../shards/env.ts';
import { routerTimeoutMs, type Environment } from './settings.ts';

export interface PlatformOptions {
  readonly metrics?: RouterOptions['metrics'];
  /** Alibaba Cloud credentials for the OSS map and the OOS token, such as the FC role's. */
  readonly credentials?: () => AlibabaCredentials;
}

/**
 * Returns the router, created on the first invocation: its deadline depends on the function's timeout,
 * which only an invocation's context tells, and is the same for every invocation of the function. The
 * shard map loader is created at once and caches the map across invocations.
 */
export function routerPerColdStart(env: Environment, options: PlatformOptions = {}): (functionTimeMs: number) => Router {
  const credentials = options.credentials === undefined ? {} : { credentials: options.credentials };
  const loader = shardMapFromEnv(env, credentials);
  const auth = authFromEnv(env, credentials);
  // In memory by default: a warm instance answers its dashboards' refreshes from it. RESULTS_CACHE_URL
  // names a Redis/Valkey that every instance shares.
  const cache = createResultsCache(cacheSettingsFromEnv(env), jsonLogger);
  let versionTtlMs: number | undefined;
  try {
    versionTtlMs = ttlFromEnv(env);
  } catch {
    // A bad TTL is the shard map loader's to report (every request answers 503 saying so).
  }
  let router: Router | undefined;
  return (functionTimeMs) => router ??= createRouter({
    shardMap: () => loader.get(),
    shardMapAge: () => loader.ageMs(),
    auth,
    metrics: options.metrics,
    timeoutMs: routerTimeoutMs(env, functionTimeMs),
    ...(cache === null ? {} : { cache }),
    ...(versionTtlMs === undefined ? {} : { shardVersionTtlMs: versionTtlMs }),
  });
}

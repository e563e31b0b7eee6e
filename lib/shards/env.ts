// Which shard map source a deployment uses, from its environment variables, behind one cache.
import { loadShardMapFile } from './file.ts';
import { cachedShardMap, DEFAULT_TTL_MS, type LoaderOptions, type ShardMapLoader, type ShardMapSource } from './loader.ts';
import { alibabaCredentialsFromEnv, type AlibabaCredentials } from './alibaba.ts';
import { ossObjectSource } from './oss.ts';
import { DEFAULT_SHARD_LABEL, ShardMapError } from './schema.ts';
import { ssmParameterSource, ssmPathSource } from './ssm.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ShardMapEnvOptions extends Omit<LoaderOptions, 'ttlMs'> {
  /**
   * Alibaba Cloud credentials for OSS, such as the Function Compute context's (default:
   * ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN from
   * `env`, read when needed).
   */
  readonly credentials?: () => AlibabaCredentials;
}

interface SourceKind {
  /** Setting any of these selects the source. */
  readonly variables: readonly string[];
  readonly create: (env: Environment, options: ShardMapEnvOptions) => ShardMapSource;
}

const SOURCES: readonly SourceKind[] = [
  { variables: ['SHARD_MAP_FILE'], create: (env) => fileSource(required(env, 'SHARD_MAP_FILE')) },
  { variables: ['SHARD_MAP_SSM_PARAMETER'], create: (env) => ssmParameterSource(required(env, 'SHARD_MAP_SSM_PARAMETER')) },
  {
    variables: ['SHARD_MAP_SSM_PATH'],
    create: (env) => ssmPathSource(required(env, 'SHARD_MAP_SSM_PATH'), value(env, 'SHARD_LABEL') ?? DEFAULT_SHARD_LABEL),
  },
  {
    variables: ['SHARD_MAP_OSS_BUCKET', 'SHARD_MAP_OSS_KEY'],
    create: (env, options) =>
      ossObjectSource({
        bucket: required(env, 'SHARD_MAP_OSS_BUCKET'),
        key: required(env, 'SHARD_MAP_OSS_KEY'),
        endpoint: ossEndpointFromEnv(env),
        credentials: options.credentials ?? (() => alibabaCredentialsFromEnv(env, 'OSS')),
      }),
  },
];

/**
 * The shard map loader configured by `env`, with exactly one source:
 *   SHARD_MAP_FILE                              a JSON or YAML file (any platform)
 *   SHARD_MAP_SSM_PARAMETER                     one SSM parameter holding the whole document
 *   SHARD_MAP_SSM_PATH                          one SSM parameter per shard; SHARD_LABEL (default cluster)
 *   SHARD_MAP_OSS_BUCKET + SHARD_MAP_OSS_KEY    an OSS object; SHARD_MAP_OSS_REGION (else ALIBABA_CLOUD_REGION,
 *                                               FC_REGION) picks the internal endpoint, SHARD_MAP_OSS_ENDPOINT overrides it
 * re-read every SHARD_MAP_TTL_SECONDS (default 30). A configuration error does not throw: get()
 * rejects with it, so the router answers 503 saying what to fix.
 */
export function shardMapFromEnv(env: Environment, options: ShardMapEnvOptions = {}): ShardMapLoader {
  try {
    return cachedShardMap(sourceFromEnv(env, options), { ...options, ttlMs: ttlFromEnv(env) });
  } catch (error) {
    return { get: () => Promise.reject(error), ageMs: () => null };
  }
}

function sourceFromEnv(env: Environment, options: ShardMapEnvOptions): ShardMapSource {
  const configured = SOURCES.filter(({ variables }) => variables.some((name) => value(env, name) !== undefined));
  const [only, ...others] = configured;
  if (only === undefined) {
    throw new ShardMapError(
      'no shard map source configured: set SHARD_MAP_FILE, SHARD_MAP_SSM_PARAMETER, SHARD_MAP_SSM_PATH, or SHARD_MAP_OSS_BUCKET and SHARD_MAP_OSS_KEY',
    );
  }
  if (others.length > 0) {
    const set = configured.flatMap(({ variables }) => variables.filter((name) => value(env, name) !== undefined));
    throw new ShardMapError(`more than one shard map source configured (${set.join(', ')}): set only one`);
  }
  return only.create(env, options);
}

function fileSource(path: string): ShardMapSource {
  return { description: path, read: async () => (await loadShardMapFile(path)).map };
}

/** SHARD_MAP_TTL_SECONDS in ms (default 30 s); throws ShardMapError for a value that is not one. */
export function ttlFromEnv(env: Environment): number {
  const text = value(env, 'SHARD_MAP_TTL_SECONDS');
  if (text === undefined) return DEFAULT_TTL_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ShardMapError(`SHARD_MAP_TTL_SECONDS must be a number of seconds, got ${JSON.stringify(text)}`);
  }
  return seconds * 1000;
}

/**
 * SHARD_MAP_OSS_ENDPOINT, else the endpoint of SHARD_MAP_OSS_REGION (else ALIBABA_CLOUD_REGION,
 * FC_REGION): the VPC-internal one, through which the function reads the map without leaving
 * Alibaba Cloud's network, or with `internal: false` the public one (the CLI on an operator's machine).
 */
export function ossEndpointFromEnv(env: Environment, { internal = true } = {}): string {
  const endpoint = value(env, 'SHARD_MAP_OSS_ENDPOINT');
  if (endpoint !== undefined) return endpoint;
  const region = value(env, 'SHARD_MAP_OSS_REGION') ?? value(env, 'ALIBABA_CLOUD_REGION') ?? value(env, 'FC_REGION');
  if (region === undefined) {
    throw new ShardMapError('no OSS region: set SHARD_MAP_OSS_REGION (e.g. cn-hangzhou) or SHARD_MAP_OSS_ENDPOINT');
  }
  return `https://oss-${region.replace(/^oss-/, '')}${internal ? '-internal' : ''}.aliyuncs.com`;
}

/** An empty variable counts as unset, as it does in most deployment tools' templates. */
function value(env: Environment, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
}

/** A variable of the selected source: one of a pair (the OSS bucket and key) may be missing. */
function required(env: Environment, name: string): string {
  const text = value(env, name);
  if (text === undefined) throw new ShardMapError(`${name} is not set`);
  return text;
}

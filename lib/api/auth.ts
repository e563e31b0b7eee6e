// The router's own credential check. Grafana's core Prometheus data source cannot sign AWS SigV4
// requests, so the function URL is public and the router checks a bearer token or basic auth itself.
import { createHash, timingSafeEqual } from 'node:crypto';
import { alibabaCredentialsFromEnv, type AlibabaCredentials } from '../shards/alibaba.ts';
import { cachedShardMap, type ShardMapSource } from '../shards/loader.ts';
import { oosSecretParameterSource } from '../shards/oos.ts';
import { ShardMapError, type ShardMap, type Tenant } from '../shards/schema.ts';
import { readSsmParameter } from '../shards/ssm.ts';
import { tenantView } from '../shards/tenants.ts';
import { ApiError } from '../errors.ts';

export interface AuthOptions {
  /** The bearer token, or a getter that may fetch and cache it (rotated without a redeploy). */
  readonly token?: string | (() => Promise<string>);
  readonly basic?: { readonly user: string; readonly password: string };
}

/** Throws 401 unless the request carries one of the configured credentials. */
export async function authenticate(request: Request, auth: AuthOptions): Promise<void> {
  const header = request.headers.get('authorization') ?? '';
  const { scheme, credential } = authorizationOf(header);
  if (auth.token !== undefined && scheme === 'bearer') {
    const expected = typeof auth.token === 'string' ? auth.token : await auth.token();
    if (expected !== '' && sameSecret(credential, expected)) return;
  }
  if (auth.basic !== undefined && scheme === 'basic') {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    // Both halves are always compared, so timing does not tell which one was wrong.
    const userOk = sameSecret(decoded.slice(0, Math.max(decoded.indexOf(':'), 0)), auth.basic.user);
    const passwordOk = sameSecret(decoded.slice(decoded.indexOf(':') + 1), auth.basic.password);
    if (decoded.includes(':') && userOk && passwordOk) return;
  }
  throw new ApiError('unauthorized', header === '' ? 'authentication required' : 'invalid credentials', 401);
}

/**
 * `<scheme> <credential>` and nothing more (RFC 9110: one token68): `Bearer <token> junk` is no token.
 * The scheme is lower-cased, since schemes are case-insensitive.
 */
function authorizationOf(header: string): { scheme: string; credential: string } {
  const [, scheme = '', credential = ''] = /^(\S+) +(\S+)$/.exec(header) ?? [];
  return { scheme: scheme.toLowerCase(), credential };
}

/** Constant-time comparison; hashing first makes the lengths equal without revealing them. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Credentials from the environment: ROUTER_AUTH_TOKEN (bearer, in plain configuration) or a token kept
 * in a secret store and re-read every SHARD_MAP_TTL_SECONDS, so a rotated token needs no redeploy:
 * ROUTER_AUTH_TOKEN_SSM_PARAMETER (an SSM SecureString, AWS) or ROUTER_AUTH_TOKEN_OOS_PARAMETER (an OOS
 * encrypted parameter, Alibaba Cloud; region ROUTER_AUTH_TOKEN_OOS_REGION, else ALIBABA_CLOUD_REGION,
 * FC_REGION; ROUTER_AUTH_TOKEN_OOS_ENDPOINT overrides the region's VPC endpoint). And
 * ROUTER_BASIC_AUTH_USER with ROUTER_BASIC_AUTH_PASSWORD. None set: no check (a private deployment
 * behind its own gateway authentication).
 */
export function authFromEnv(env: Environment, options: AuthEnvOptions = {}): AuthOptions | undefined {
  const token = env.ROUTER_AUTH_TOKEN || storedToken(env, options);
  const user = env.ROUTER_BASIC_AUTH_USER;
  const password = env.ROUTER_BASIC_AUTH_PASSWORD;
  const basic = user && password ? { user, password } : undefined;
  if (token === undefined && basic === undefined) return undefined;
  return { ...(token === undefined ? {} : { token }), ...(basic === undefined ? {} : { basic }) };
}

type Environment = Readonly<Record<string, string | undefined>>;

export interface AuthEnvOptions {
  /** Alibaba Cloud credentials for OOS (default: the ALIBABA_CLOUD_* variables). */
  readonly credentials?: () => AlibabaCredentials;
}

/** The token's secret store, if one is configured, behind the same cache as the shard map. */
function storedToken(env: Environment, options: AuthEnvOptions): (() => Promise<string>) | undefined {
  const source = tokenSource(env, options);
  if (source === undefined) return undefined;
  const ttlSeconds = Number(env.SHARD_MAP_TTL_SECONDS || 30);
  const loader = cachedShardMap<string>(source, { ttlMs: ttlSeconds * 1000, failureMessage: 'auth token refresh failed; keeping the last good token' });
  return () => loader.get();
}

function tokenSource(env: Environment, options: AuthEnvOptions): ShardMapSource<string> | undefined {
  const ssm = env.ROUTER_AUTH_TOKEN_SSM_PARAMETER || undefined;
  const oos = env.ROUTER_AUTH_TOKEN_OOS_PARAMETER || undefined;
  if (ssm !== undefined && oos !== undefined) {
    return failing('both ROUTER_AUTH_TOKEN_SSM_PARAMETER and ROUTER_AUTH_TOKEN_OOS_PARAMETER are set: set one');
  }
  if (ssm !== undefined) return { description: `SSM parameter ${ssm}`, read: () => readSsmParameter(ssm, 'auth token') };
  if (oos === undefined) return undefined;
  const region = env.ROUTER_AUTH_TOKEN_OOS_REGION || env.ALIBABA_CLOUD_REGION || env.FC_REGION;
  if (!region) return failing('ROUTER_AUTH_TOKEN_OOS_PARAMETER is set but no region: set ROUTER_AUTH_TOKEN_OOS_REGION');
  return oosSecretParameterSource({
    name: oos,
    region,
    ...(env.ROUTER_AUTH_TOKEN_OOS_ENDPOINT ? { endpoint: env.ROUTER_AUTH_TOKEN_OOS_ENDPOINT } : {}),
    credentials: options.credentials ?? (() => alibabaCredentialsFromEnv(env, 'OOS')),
  });
}

/** A configuration error answers every request that needs the token (503), saying what to fix. */
function failing(message: string): ShardMapSource<string> {
  return { description: 'auth token configuration', read: () => Promise.reject(new ShardMapError(message)) };
}

// ---------------------------------------------------------------------------------------------
// Tenants: bearer tokens in the shard map (as sha256 hashes), each seeing some shards only.

/** What a request may see: the whole shard map, or its tenant's view of it. */
export interface Access {
  readonly map: ShardMap;
  /** The tenant whose token the request carries; null for the router-wide credential (or no check). */
  readonly tenant: string | null;
}

/**
 * Who is asking, and so which shards the request may see. The router-wide credential (`auth`) sees
 * every shard. With tenants in the map, a tenant's bearer token sees that tenant's shards and any
 * other request gets 401; without tenants, nothing changes: `auth`, when configured, is required.
 * The map is read once the router-wide credential is ruled out, and never for a request that has it.
 */
export async function authorize(request: Request, auth: AuthOptions | undefined, shardMap: () => Promise<ShardMap>): Promise<Access> {
  let refused: ApiError | undefined;
  if (auth !== undefined) {
    refused = await authenticate(request, auth).then(() => undefined, (err: unknown) => {
      if (err instanceof ApiError && err.errorType === 'unauthorized') return err;
      throw err;
    });
    if (refused === undefined) return { map: await shardMap(), tenant: null };
  }
  const map = await shardMap();
  if (map.tenants === undefined) {
    if (refused !== undefined) throw refused;
    return { map, tenant: null };
  }
  const tenant = tenantOf(request, map.tenants);
  if (tenant === undefined) {
    throw refused ?? new ApiError('unauthorized', request.headers.has('authorization') ? 'invalid credentials' : 'authentication required', 401);
  }
  return { map: tenantView(map, tenant), tenant };
}

/**
 * The tenant whose token hash is the sha256 of the request's bearer token. Every tenant's hash is
 * compared, in constant time, whichever matches: the time taken tells nothing about the token.
 */
function tenantOf(request: Request, tenants: ReadonlyMap<string, Tenant>): string | undefined {
  const { scheme, credential: token } = authorizationOf(request.headers.get('authorization') ?? '');
  if (scheme !== 'bearer' || token === '') return undefined;
  const digest = createHash('sha256').update(token).digest();
  let found: string | undefined;
  for (const tenant of tenants.values()) {
    if (timingSafeEqual(digest, Buffer.from(tenant.tokenSha256, 'hex')) && found === undefined) found = tenant.name;
  }
  return found;
}

// The router's own credential check. Grafana's core Prometheus data source cannot sign AWS SigV4
// requests, so the function URL is public and the router checks a bearer token or basic auth itself.
import { createHash, timingSafeEqual } from 'node:crypto';
import { cachedShardMap } from '../shards/loader.ts';
import type { ShardMap, Tenant } from '../shards/schema.ts';
import { readSsmParameter } from '../shards/ssm.ts';
import { tenantView } from '../shards/tenants.ts';
import { ApiError } from './envelope.ts';

export interface AuthOptions {
  /** The bearer token, or a getter that may fetch and cache it (rotated without a redeploy). */
  readonly token?: string | (() => Promise<string>);
  readonly basic?: { readonly user: string; readonly password: string };
}

/** Throws 401 unless the request carries one of the configured credentials. */
export async function authenticate(request: Request, auth: AuthOptions): Promise<void> {
  const header = request.headers.get('authorization') ?? '';
  const [scheme = '', credential = ''] = header.split(/\s+/, 2);
  if (auth.token !== undefined && scheme.toLowerCase() === 'bearer') {
    const expected = typeof auth.token === 'string' ? auth.token : await auth.token();
    if (expected !== '' && sameSecret(credential, expected)) return;
  }
  if (auth.basic !== undefined && scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    // Both halves are always compared, so timing does not tell which one was wrong.
    const userOk = sameSecret(decoded.slice(0, Math.max(decoded.indexOf(':'), 0)), auth.basic.user);
    const passwordOk = sameSecret(decoded.slice(decoded.indexOf(':') + 1), auth.basic.password);
    if (decoded.includes(':') && userOk && passwordOk) return;
  }
  throw new ApiError('unauthorized', header === '' ? 'authentication required' : 'invalid credentials', 401);
}

/** Constant-time comparison; hashing first makes the lengths equal without revealing them. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Credentials from the environment: ROUTER_AUTH_TOKEN (bearer) or ROUTER_AUTH_TOKEN_SSM_PARAMETER (a
 * SecureString, re-read every SHARD_MAP_TTL_SECONDS so a rotated token needs no redeploy), and
 * ROUTER_BASIC_AUTH_USER with ROUTER_BASIC_AUTH_PASSWORD. None set: no check (a private deployment
 * behind its own gateway authentication).
 */
export function authFromEnv(env: Readonly<Record<string, string | undefined>>): AuthOptions | undefined {
  const parameter = env.ROUTER_AUTH_TOKEN_SSM_PARAMETER || undefined;
  const token = env.ROUTER_AUTH_TOKEN || (parameter === undefined ? undefined : ssmToken(parameter, env));
  const user = env.ROUTER_BASIC_AUTH_USER;
  const password = env.ROUTER_BASIC_AUTH_PASSWORD;
  const basic = user && password ? { user, password } : undefined;
  if (token === undefined && basic === undefined) return undefined;
  return { ...(token === undefined ? {} : { token }), ...(basic === undefined ? {} : { basic }) };
}

function ssmToken(parameter: string, env: Readonly<Record<string, string | undefined>>): () => Promise<string> {
  const ttlSeconds = Number(env.SHARD_MAP_TTL_SECONDS || 30);
  const loader = cachedShardMap<string>(
    { description: `SSM parameter ${parameter}`, read: () => readSsmParameter(parameter, 'auth token') },
    { ttlMs: ttlSeconds * 1000, failureMessage: 'auth token refresh failed; keeping the last good token' },
  );
  return () => loader.get();
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
  const [scheme = '', token = ''] = (request.headers.get('authorization') ?? '').split(/\s+/, 2);
  if (scheme.toLowerCase() !== 'bearer' || token === '') return undefined;
  const digest = createHash('sha256').update(token).digest();
  let found: string | undefined;
  for (const tenant of tenants.values()) {
    if (timingSafeEqual(digest, Buffer.from(tenant.tokenSha256, 'hex')) && found === undefined) found = tenant.name;
  }
  return found;
}

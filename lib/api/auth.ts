// The router's own credential check. Grafana's core Prometheus data source cannot sign AWS SigV4
// requests, so the function URL is public and the router checks a bearer token or basic auth itself.
import { createHash, timingSafeEqual } from 'node:crypto';
import { cachedShardMap } from '../shards/loader.ts';
import { readSsmParameter } from '../shards/ssm.ts';
import { ApiError } from './envelope.ts';

export interface AuthOptions {
  /** The bearer token, or a getter that may fetch and cache it (rotated without a redeploy). */
  readonly token?: string | (() => Promise<string>);
  readonly basic?: { readonly user: string; readonly password: string };
}

/** Throws 401 unless the request carries one of the configured credentials. */
export async function authenticate(request: Request, auth: AuthOptions): Promise<void> {
  const header = request.headers.get('authorization') ?? '';
  // `<scheme> <credential>` and nothing more (RFC 9110: one token68): `Bearer <token> junk` is no token.
  const [, scheme = '', credential = ''] = /^(\S+) +(\S+)$/.exec(header) ?? [];
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

// The bearer token in an OOS encrypted parameter, read with the real @alicloud/pop-core client from a
// local server speaking OOS's RPC protocol (test/shards/fake-oos.ts), as the Function Compute
// deployment configures it (ROUTER_AUTH_TOKEN_OOS_PARAMETER, the function role's temporary keys).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, authFromEnv } from '../../lib/api/auth.ts';
import { ApiError } from '../../lib/errors.ts';
import { readOosSecretParameter } from '../../lib/shards/oos.ts';
import { startFakeOos, type FakeOos } from './fake-oos.ts';
import { rejection } from './helpers.ts';

let oos: FakeOos;
const role = { accessKeyId: 'STS.role', accessKeySecret: 'role-secret', securityToken: 'role-token' };
const NAME = 'prome-route-prod-auth-token';

beforeAll(async () => {
  oos = await startFakeOos();
  oos.keys.set(role.accessKeyId, { secret: role.accessKeySecret, token: role.securityToken });
  oos.put(NAME, 'first-token');
});
afterAll(() => oos.close());

const env = (ttlSeconds = '0') => ({
  ROUTER_AUTH_TOKEN_OOS_PARAMETER: NAME,
  ROUTER_AUTH_TOKEN_OOS_REGION: 'cn-hangzhou',
  ROUTER_AUTH_TOKEN_OOS_ENDPOINT: oos.url,
  SHARD_MAP_TTL_SECONDS: ttlSeconds,
});
const bearer = (token: string) => new Request('http://router/api/v1/labels', { headers: { authorization: `Bearer ${token}` } });

describe('the token in an OOS encrypted parameter', () => {
  it('is read decrypted, signed with the role keys and their security token', async () => {
    const auth = authFromEnv(env('60'), { credentials: () => role })!;
    await expect(authenticate(bearer('first-token'), auth)).resolves.toBeUndefined();
    await expect(authenticate(bearer('wrong'), auth)).rejects.toBeInstanceOf(ApiError);
    const [read] = oos.requests.filter((r) => r.status === 200);
    expect(read?.params).toMatchObject({ Action: 'GetSecretParameter', Name: NAME, WithDecryption: 'true', RegionId: 'cn-hangzhou', SecurityToken: 'role-token' });
  });

  it('is read again once the TTL has passed: a rotated token needs no redeploy', async () => {
    const auth = authFromEnv(env('0'), { credentials: () => role })!;
    await authenticate(bearer('first-token'), auth);
    oos.put(NAME, 'second-token');
    // Stale while revalidating: the request that finds the token expired starts the read.
    await authenticate(bearer('first-token'), auth).catch(() => {});
    await expect.poll(() => authenticate(bearer('second-token'), auth).then(() => true, () => false)).toBe(true);
    oos.put(NAME, 'first-token');
  });

  it('says what OOS said when the parameter is missing or the keys are wrong', async () => {
    const parameter = { name: 'missing', region: 'cn-hangzhou', endpoint: oos.url, credentials: () => role };
    expect((await rejection(readOosSecretParameter(parameter, 'auth token'))).message).toBe(
      'cannot read auth token OOS encrypted parameter missing (cn-hangzhou): EntityNotExists.SecretParameter: The SecretParameter (missing) does not exist.');
    const wrongSecret = { ...parameter, name: NAME, credentials: () => ({ ...role, accessKeySecret: 'nope' }) };
    expect((await rejection(readOosSecretParameter(wrongSecret, 'auth token'))).message).toContain('SignatureDoesNotMatch');
    const noToken = { ...parameter, name: NAME, credentials: () => ({ accessKeyId: role.accessKeyId, accessKeySecret: role.accessKeySecret }) };
    expect((await rejection(readOosSecretParameter(noToken, 'auth token'))).message).toContain('InvalidSecurityToken.Mismatch');
  });

  it('refuses a configuration naming both stores, or no region', async () => {
    const both = authFromEnv({ ...env(), ROUTER_AUTH_TOKEN_SSM_PARAMETER: '/x' })!;
    expect((await rejection((both.token as () => Promise<string>)())).message).toContain('set one');
    const { ROUTER_AUTH_TOKEN_OOS_REGION: _, ...noRegion } = env();
    expect((await rejection((authFromEnv(noRegion)!.token as () => Promise<string>)())).message).toContain('set ROUTER_AUTH_TOKEN_OOS_REGION');
  });
});

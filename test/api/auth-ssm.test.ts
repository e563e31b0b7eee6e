// The bearer token as an SSM SecureString: read with the real AWS SDK from a local endpoint speaking
// SSM's protocol, cached, and picked up again after rotation without a restart.
import { expect, it } from 'vitest';
import { authenticate, authFromEnv } from '../../lib/api/auth.ts';
import { useFakeSsm } from '../shards/fake-ssm.ts';

const session = useFakeSsm();

const withToken = (token: string) => new Request('http://router.test/api/v1/labels', { headers: { Authorization: `Bearer ${token}` } });

it('checks the bearer token kept in SSM, and follows its rotation', async () => {
  const ssm = session.fake;
  ssm.put('/prome-route/ci/token', 'first-token');
  const auth = authFromEnv({ ROUTER_AUTH_TOKEN_SSM_PARAMETER: '/prome-route/ci/token', SHARD_MAP_TTL_SECONDS: '0.2' })!;
  await expect(authenticate(withToken('first-token'), auth)).resolves.toBeUndefined();
  await expect(authenticate(withToken('wrong'), auth)).rejects.toThrow('invalid credentials');
  expect(ssm.requests.at(-1)).toMatchObject({ target: 'AmazonSSM.GetParameter', body: { Name: '/prome-route/ci/token', WithDecryption: true } });

  ssm.put('/prome-route/ci/token', 'second-token');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await authenticate(withToken('first-token'), auth); // served while the refresh runs
  await new Promise((resolve) => setTimeout(resolve, 50));
  await expect(authenticate(withToken('second-token'), auth)).resolves.toBeUndefined();
  await expect(authenticate(withToken('first-token'), auth)).rejects.toThrow('invalid credentials');
});

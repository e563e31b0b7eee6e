import { afterEach, describe, expect, it } from 'vitest';
import { latestCredentials, rememberCredentials } from '../../functions/aliyun/credentials.ts';

describe('Alibaba Cloud credentials on FC (OSS map, OOS token)', () => {
  afterEach(() => {
    for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN']) delete process.env[name];
  });

  it('uses the instance variables until an invocation brings the role keys, then the latest keys', () => {
    expect(() => latestCredentials()).toThrow('no Alibaba Cloud credentials: give the function a role');
    Object.assign(process.env, { ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.env', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's0', ALIBABA_CLOUD_SECURITY_TOKEN: 't0' });
    expect(latestCredentials()).toEqual({ accessKeyId: 'STS.env', accessKeySecret: 's0', securityToken: 't0' });

    rememberCredentials(undefined);
    rememberCredentials({ accessKeyId: '', accessKeySecret: '', securityToken: '' });
    expect(latestCredentials().accessKeyId).toBe('STS.env');

    rememberCredentials({ accessKeyId: 'STS.one', accessKeySecret: 's1', securityToken: 't1' });
    rememberCredentials({ accessKeyId: 'STS.two', accessKeySecret: 's2', securityToken: 't2' });
    expect(latestCredentials()).toEqual({ accessKeyId: 'STS.two', accessKeySecret: 's2', securityToken: 't2' });
  });
});

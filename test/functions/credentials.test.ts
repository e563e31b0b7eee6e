import { afterEach, describe, expect, it } from 'vitest';
import { ossCredentials, rememberCredentials } from '../../functions/aliyun/credentials.ts';

describe('OSS credentials on FC', () => {
  afterEach(() => {
    for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN']) delete process.env[name];
  });

  it('uses the instance variables until an invocation brings the role keys, then the latest keys', () => {
    expect(() => ossCredentials()).toThrow('no OSS credentials: give the function a role');
    Object.assign(process.env, { ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.env', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's0', ALIBABA_CLOUD_SECURITY_TOKEN: 't0' });
    expect(ossCredentials()).toEqual({ accessKeyId: 'STS.env', accessKeySecret: 's0', securityToken: 't0' });

    rememberCredentials(undefined);
    rememberCredentials({ accessKeyId: '', accessKeySecret: '', securityToken: '' });
    expect(ossCredentials().accessKeyId).toBe('STS.env');

    rememberCredentials({ accessKeyId: 'STS.one', accessKeySecret: 's1', securityToken: 't1' });
    rememberCredentials({ accessKeyId: 'STS.two', accessKeySecret: 's2', securityToken: 't2' });
    expect(ossCredentials()).toEqual({ accessKeyId: 'STS.two', accessKeySecret: 's2', securityToken: 't2' });
  });
});

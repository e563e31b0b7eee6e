// OSS credentials for the shard map: the function role's temporary keys. FC passes fresh ones to every
// invocation; the ALIBABA_CLOUD_* variables an instance starts with expire after 36 hours, which a
// provisioned instance can outlive, so the latest invocation's keys win and the variables are the fallback.
import type { OssCredentials } from '../../lib/shards/oss.ts';

let latest: OssCredentials | undefined;

/** Keeps an invocation's `context.credentials` (absent or empty without a role). */
export function rememberCredentials(given: Partial<OssCredentials> | undefined): void {
  const { accessKeyId, accessKeySecret, securityToken } = given ?? {};
  if (accessKeyId && accessKeySecret) latest = { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

export function ossCredentials(): OssCredentials {
  if (latest !== undefined) return latest;
  const { ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: securityToken } = process.env;
  if (!accessKeyId || !accessKeySecret) throw new Error('no OSS credentials: give the function a role');
  return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

// The function role's temporary keys, for OSS (the shard map) and OOS (the token). FC passes fresh ones
// to every invocation; the ALIBABA_CLOUD_* variables an instance starts with expire after 36 hours,
// which a provisioned instance can outlive, so the latest invocation's keys win and the variables are
// the fallback.
import { alibabaCredentialsFromEnv, type AlibabaCredentials } from '../../lib/shards/alibaba.ts';

let latest: AlibabaCredentials | undefined;

/** Keeps an invocation's `context.credentials` (absent or empty without a role). */
export function rememberCredentials(given: Partial<AlibabaCredentials> | undefined): void {
  const { accessKeyId, accessKeySecret, securityToken } = given ?? {};
  if (accessKeyId && accessKeySecret) latest = { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

export function latestCredentials(): AlibabaCredentials {
  return latest ?? alibabaCredentialsFromEnv(process.env, 'Alibaba Cloud', 'give the function a role');
}

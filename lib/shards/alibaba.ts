// Alibaba Cloud credentials, for every Alibaba service the router reads (OSS for the map, OOS for the token).
import { ShardMapError } from './schema.ts';

/** An access key: a RAM user's, or a role's temporary one with its security token. */
export interface AlibabaCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Present with temporary (STS) credentials, such as a function role's. */
  readonly securityToken?: string;
}

const DEFAULT_ADVICE = 'give the function a role, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET';

/**
 * ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and (temporary credentials)
 * ALIBABA_CLOUD_SECURITY_TOKEN; empty counts as unset. `service` and `advice` make the message when
 * they are missing ("no OSS credentials: give the function a role, …").
 */
export function alibabaCredentialsFromEnv(env: Readonly<Record<string, string | undefined>>, service: string, advice = DEFAULT_ADVICE): AlibabaCredentials {
  const { ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: securityToken } = env;
  if (!accessKeyId || !accessKeySecret) throw new ShardMapError(`no ${service} credentials: ${advice}`);
  return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

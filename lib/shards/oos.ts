/**
 * Encrypted parameters in Alibaba Cloud CloudOps Orchestration Service (OOS), read with
 * GetSecretParameter (WithDecryption): where the Function Compute deployment keeps its bearer token, as
 * the AWS one keeps it in an SSM SecureString. OOS speaks Alibaba Cloud's RPC protocol; the client is
 * the official generic one, @alicloud/pop-core (no OOS-specific package is published for Node.js).
 * From a VPC, OOS is reached on oos-vpc.<region>.aliyuncs.com; from elsewhere on oos.<region>.aliyuncs.com.
 */
import type RPCClient from '@alicloud/pop-core';
import type { AlibabaCredentials } from './alibaba.ts';
import type { ShardMapSource } from './loader.ts';
import { ShardMapError } from './schema.ts';

export interface OosParameter {
  /** The encrypted parameter's name. */
  readonly name: string;
  readonly region: string;
  /** Default: the region's VPC endpoint (`internal`) or public one. */
  readonly endpoint?: string;
  /** Asked before every read: Function Compute hands out fresh role credentials per invocation. */
  readonly credentials: () => AlibabaCredentials;
}

const API_VERSION = '2019-06-01';

/** The region's OOS endpoint: the VPC one a function without internet access reaches, or the public one. */
export function oosEndpoint(region: string, { internal = true } = {}): string {
  return `https://oos${internal ? '-vpc' : ''}.${region}.aliyuncs.com`;
}

/** The parameter's decrypted value as a source: failures name the parameter and say what OOS said. */
export function oosSecretParameterSource(parameter: OosParameter, what = 'auth token'): ShardMapSource<string> {
  const description = `OOS encrypted parameter ${parameter.name} (${parameter.region})`;
  return { description, read: () => readOosSecretParameter(parameter, what) };
}

export async function readOosSecretParameter({ name, region, endpoint, credentials }: OosParameter, what: string): Promise<string> {
  try {
    const { default: Client } = await import('@alicloud/pop-core');
    const { accessKeyId, accessKeySecret, securityToken } = credentials();
    const client: RPCClient = new Client({
      accessKeyId,
      accessKeySecret,
      ...(securityToken === undefined ? {} : { securityToken }),
      endpoint: endpoint ?? oosEndpoint(region),
      apiVersion: API_VERSION,
    });
    // POST: the request is signed over its form body, and no secret-bearing URL lands in a proxy's log.
    const answer = await client.request('GetSecretParameter', { RegionId: region, Name: name, WithDecryption: true }, { method: 'POST', timeout: 5_000 });
    const value = (answer as { Parameter?: { Value?: unknown } }).Parameter?.Value;
    if (typeof value !== 'string') throw new Error('the answer holds no parameter value');
    return value;
  } catch (error) {
    throw new ShardMapError(`cannot read ${what} OOS encrypted parameter ${name} (${region}): ${oosFailure(error)}`);
  }
}

/** "EntityNotExists.SecretParameter: …": pop-core names errors after the service's code. */
function oosFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: string };
  // pop-core appends ", URL: <endpoint>/" to the service's message; the endpoint is no news here.
  const message = error.message.replace(/, URL: \S+$/, '');
  return code === undefined ? message : `${code}: ${message}`;
}

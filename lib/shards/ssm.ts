/**
 * Shard maps in AWS Systems Manager Parameter Store, in one of two layouts:
 *   - one parameter whose value is a whole shard map document (JSON or YAML);
 *   - a path with one parameter per shard, `<path>/<shard name>`, its value a URL or a shard object
 *     in JSON ({"urls": [...]}). Adding a cluster is one `aws ssm put-parameter`, and the map is not
 *     bound by the 4 KB of a standard parameter.
 * Region, credentials and endpoint come from the SDK's usual sources (AWS_REGION, the Lambda role,
 * AWS_ENDPOINT_URL_SSM). The write helpers at the end serve `prome-route shards push`.
 */
import type { Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { parseDocument, parseShardMapText } from './file.ts';
import type { ShardMapSource } from './loader.ts';
import { parseShardMap, ShardMapError, type ShardMap } from './schema.ts';

export function ssmParameterSource(name: string): ShardMapSource {
  const description = `SSM parameter ${name}`;
  return {
    description,
    read: async () => parseShardMapText(await readSsmParameter(name, 'shard map'), description).map,
  };
}

/** One parameter's value, SecureStrings decrypted; errors say what was being read (`what`). */
export async function readSsmParameter(name: string, what: string): Promise<string> {
  const { ssm, client } = await sdk();
  const { Parameter } = await call(`SSM parameter ${name}`, () =>
    client.send(new ssm.GetParameterCommand({ Name: name, WithDecryption: true })),
  what);
  return Parameter?.Value ?? '';
}

/** `shardLabel` is the map's label, which the per-shard layout has no document to carry. */
export function ssmPathSource(path: string, shardLabel: string): ShardMapSource {
  const description = `SSM path ${ssmHierarchy(path)}`;
  return {
    description,
    read: async () => mapFromParameters(description, await readSsmPath(path), shardLabel),
  };
}

/** GetParametersByPath wants the hierarchy without the trailing slash people tend to write. */
export function ssmHierarchy(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** A parameter as read: SecureStrings decrypted, `type` as SSM names it (String, SecureString, StringList). */
export interface SsmParameter {
  readonly name: string;
  readonly value: string;
  readonly type: string;
}

/** Every parameter one level below `path`, all pages, not validated. */
export async function readSsmPath(path: string): Promise<SsmParameter[]> {
  const hierarchy = ssmHierarchy(path);
  const { ssm, client } = await sdk();
  const input = { Path: hierarchy, Recursive: false, WithDecryption: true };
  return call(`SSM path ${hierarchy}`, async () => {
    const all: Parameter[] = [];
    for await (const page of ssm.paginateGetParametersByPath({ client }, input)) all.push(...(page.Parameters ?? []));
    return all.map(({ Name = '', Value = '', Type = '' }) => ({ name: Name, value: Value, type: Type }));
  });
}

/**
 * Each parameter is checked on its own first, so that an error names the parameter to fix:
 * "/prome-route/prod/shards/b: shards.b.urls[0]: must be an absolute http(s) URL, got "ftp://x"".
 */
function mapFromParameters(description: string, parameters: readonly SsmParameter[], shardLabel: string): ShardMap {
  if (parameters.length === 0) throw new ShardMapError(`no shard map at ${description}: it holds no parameters`);
  const shards: [string, unknown][] = [];
  const issues: string[] = [];
  for (const { name, value } of parameters) {
    const shardName = name.slice(name.lastIndexOf('/') + 1);
    try {
      const shard = value.trimStart().startsWith('{') ? parseDocument(value, name) : value;
      parseShardMap({ shards: { [shardName]: shard } }, name);
      shards.push([shardName, shard]);
    } catch (error) {
      if (!(error instanceof ShardMapError)) throw error;
      issues.push(...(error.issues.length === 0 ? [error.message] : error.issues.map((issue) => `${name}: ${issue}`)));
    }
  }
  if (issues.length > 0) throw new ShardMapError(`invalid shard map ${description}`, issues);
  // fromEntries, not assignment: a shard named "__proto__" must stay a shard.
  return parseShardMap({ shardLabel, shards: Object.fromEntries(shards) }, description);
}

// ---------------------------------------------------------------------------------------------
// Writing, for `prome-route shards push`. Failures are plain Errors ("cannot write SSM parameter
// /x: AccessDeniedException: …"): the map was fine, the service said no.

export interface SsmWrite {
  readonly name: string;
  readonly value: string;
  readonly type: 'String' | 'SecureString';
  /** The KMS key a SecureString is encrypted with (default: the AWS managed alias/aws/ssm). */
  readonly kmsKeyId?: string;
}

/** PutParameter with Overwrite (creates the parameter or adds a version); the new version. */
export async function writeSsmParameter({ name, value, type, kmsKeyId }: SsmWrite): Promise<number | undefined> {
  const { ssm, client } = await sdk();
  const input = { Name: name, Value: value, Type: type, Overwrite: true, ...(type === 'SecureString' && kmsKeyId !== undefined ? { KeyId: kmsKeyId } : {}) };
  const { Version } = await attempt(`cannot write SSM parameter ${name}`, () => client.send(new ssm.PutParameterCommand(input)));
  return Version;
}

export async function deleteSsmParameter(name: string): Promise<void> {
  const { ssm, client } = await sdk();
  await attempt(`cannot delete SSM parameter ${name}`, () => client.send(new ssm.DeleteParameterCommand({ Name: name })));
}

async function attempt<T>(failure: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw new Error(`${failure}: ${sdkFailure(error)}`);
  }
}

type Ssm = typeof import('@aws-sdk/client-ssm');
let loaded: Promise<{ ssm: Ssm; client: SSMClient }> | undefined;

/** Loaded on first use, so that other platforms' bundles never load the SDK; one client per process. */
function sdk(): Promise<{ ssm: Ssm; client: SSMClient }> {
  loaded ??= import('@aws-sdk/client-ssm').then((ssm) => ({
    ssm,
    // A hung connection fails the attempt (the SDK then retries) instead of holding a cold start
    // until the function's own timeout.
    client: new ssm.SSMClient({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 } }),
  }));
  return loaded;
}

/** Runs an SDK call; its failure becomes a ShardMapError naming the source. */
async function call<T>(description: string, request: () => Promise<T>, what = 'shard map'): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw new ShardMapError(`cannot read ${what} ${description}: ${sdkFailure(error)}`);
  }
}

/** "ParameterNotFound: …": SDK errors are named after the service's error code. */
function sdkFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // The SDK says "UnknownError" when the service sent no message, as SSM does for ParameterNotFound.
  const message = error.message === 'UnknownError' ? '' : error.message;
  return message === '' || message === error.name ? error.name : `${error.name}: ${message}`;
}

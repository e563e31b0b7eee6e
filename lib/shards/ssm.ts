/**
 * Shard maps in AWS Systems Manager Parameter Store, in one of two layouts:
 *   - one parameter whose value is a whole shard map document (JSON or YAML);
 *   - a path with one parameter per shard, `<path>/<shard name>`, its value a URL or a shard object
 *     in JSON ({"urls": [...]}). Adding a cluster is one `aws ssm put-parameter`, and the map is not
 *     bound by the 4 KB of a standard parameter.
 * Region, credentials and endpoint come from the SDK's usual sources (AWS_REGION, the Lambda role,
 * AWS_ENDPOINT_URL_SSM).
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
  // GetParametersByPath wants the hierarchy without the trailing slash people tend to write.
  const hierarchy = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const description = `SSM path ${hierarchy}`;
  return {
    description,
    async read() {
      const { ssm, client } = await sdk();
      const input = { Path: hierarchy, Recursive: false, WithDecryption: true };
      const parameters = await call(description, async () => {
        const all: Parameter[] = [];
        for await (const page of ssm.paginateGetParametersByPath({ client }, input)) all.push(...(page.Parameters ?? []));
        return all;
      });
      return mapFromParameters(description, parameters, shardLabel);
    },
  };
}

/**
 * Each parameter is checked on its own first, so that an error names the parameter to fix:
 * "/prome-route/prod/shards/b: shards.b.urls[0]: must be an absolute http(s) URL, got "ftp://x"".
 */
function mapFromParameters(description: string, parameters: readonly Parameter[], shardLabel: string): ShardMap {
  if (parameters.length === 0) throw new ShardMapError(`no shard map at ${description}: it holds no parameters`);
  const shards: [string, unknown][] = [];
  const issues: string[] = [];
  for (const { Name = '', Value = '' } of parameters) {
    const shardName = Name.slice(Name.lastIndexOf('/') + 1);
    try {
      const shard = Value.trimStart().startsWith('{') ? parseDocument(Value, Name) : Value;
      parseShardMap({ shards: { [shardName]: shard } }, Name);
      shards.push([shardName, shard]);
    } catch (error) {
      if (!(error instanceof ShardMapError)) throw error;
      issues.push(...(error.issues.length === 0 ? [error.message] : error.issues.map((issue) => `${Name}: ${issue}`)));
    }
  }
  if (issues.length > 0) throw new ShardMapError(`invalid shard map ${description}`, issues);
  // fromEntries, not assignment: a shard named "__proto__" must stay a shard.
  return parseShardMap({ shardLabel, shards: Object.fromEntries(shards) }, description);
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

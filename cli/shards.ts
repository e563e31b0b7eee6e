/**
 * `prome-route shards validate|diff|push`: operator commands for the shard map, so that a bad edit
 * never reaches the functions. `push` validates before it writes anything; `diff` shows what a
 * push would change in the map in force.
 *
 * SSM: region, credentials and endpoint from the AWS SDK's usual sources (AWS_REGION, AWS_PROFILE,
 * AWS_ENDPOINT_URL_SSM, …). OSS: the variables the functions use (lib/shards/env.ts):
 * SHARD_MAP_OSS_ENDPOINT, else SHARD_MAP_OSS_REGION (the region's public endpoint), and
 * ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeShard, describeTenant, diffShardMaps, formatChange, shardName, summarizeChanges } from '../lib/shards/diff.ts';
import { hasHeaders, shardMapJson, shardValue } from '../lib/shards/document.ts';
import { alibabaCredentialsFromEnv } from '../lib/shards/alibaba.ts';
import { ossEndpointFromEnv } from '../lib/shards/env.ts';
import { loadShardMapFile } from '../lib/shards/file.ts';
import { ossObjectSource, writeOssObject, type OssObject } from '../lib/shards/oss.ts';
import { DEFAULT_SHARD_LABEL, ShardMapError, type LoadedShardMap, type ShardMap } from '../lib/shards/schema.ts';
import {
  deleteSsmParameter,
  readSsmPath,
  ssmHierarchy,
  ssmParameterSource,
  ssmPathSource,
  writeSsmParameter,
} from '../lib/shards/ssm.ts';

export const SHARDS_USAGE = `  prome-route shards validate FILE...
      Check shard map files (JSON, YAML or the upstream proxy's YAML): one line per shard and tenant,
      or every problem (exit 2).
  prome-route shards diff FILE (--ssm NAME | --ssm-path PATH [--shard-label L] | --oss BUCKET/KEY | OTHERFILE)
      What pushing FILE would change in the map in force: shards added and removed, replicas,
      headers (never their values), timeouts, the shard label, tenants added and removed, their
      shards and tokens (never the hashes). Exit 0 if none, 1 if any, 2 on errors.
  prome-route shards push FILE (--ssm NAME | --ssm-path PATH [--prune] | --oss BUCKET/KEY) [--secure] [--kms-key-id KEY]
      Validate FILE, then write it: --ssm one parameter holding the JSON document; --ssm-path one
      parameter per shard (PATH/<shard>), leaving parameters of shards not in FILE unless --prune;
      --oss the JSON document as an object. Values with headers become SecureStrings (--secure: all).
      A map with tenants goes to --ssm or --oss: an SSM path has no place for them.
      --ssm with a name ending in "/" is --ssm-path. SSM: the AWS SDK's region and credentials
      (AWS_REGION, AWS_PROFILE, …). OSS: SHARD_MAP_OSS_ENDPOINT or SHARD_MAP_OSS_REGION, and
      ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET [, ALIBABA_CLOUD_SECURITY_TOKEN].
`;

/** A mistake in the command line: the message and the usage, exit 2. */
export class UsageError extends Error {}

/** A failure that ends the command with `exitCode` (diff uses 1 for "different", so its errors are 2). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

type Target =
  | { readonly kind: 'ssm'; readonly name: string }
  | { readonly kind: 'ssmPath'; readonly path: string }
  | { readonly kind: 'oss'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'file'; readonly path: string };

const TARGET_OPTIONS = {
  ssm: { type: 'string' },
  'ssm-path': { type: 'string' },
  oss: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Runs `prome-route shards …` (`args` after "shards"); the exit code. */
export async function shardsCommand(args: readonly string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'validate':
      return validate(rest);
    case 'diff':
      return diff(rest);
    case 'push':
      return push(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`Usage:\n${SHARDS_USAGE}`);
      return 0;
    default:
      throw new UsageError(`unknown shards command ${JSON.stringify(subcommand)}: validate, diff or push`);
  }
}

// ---------------------------------------------------------------------------------------------
// validate

async function validate(args: readonly string[]): Promise<number> {
  const { positionals } = parseCommandLine(args, {});
  if (positionals.length === 0) throw new UsageError('shards validate takes one or more shard map files');
  let code = 0;
  for (const file of positionals) {
    try {
      print(describeMap(file, await loadShardMapFile(file)));
    } catch (error) {
      if (!(error instanceof ShardMapError)) throw error;
      process.stderr.write(`prome-route: ${error.message}\n`);
      code = 2;
    }
  }
  return code;
}

/**
 * "shards.json: shard label cluster, 2 shards, 1 tenant" and a line per shard and tenant, header
 * values and token hashes left out.
 */
function describeMap(what: string, { map, listen }: { readonly map: ShardMap; readonly listen?: string | undefined }): string[] {
  const count = (size: number, noun: string) => `${size} ${noun}${size === 1 ? '' : 's'}`;
  const tenants = [...(map.tenants?.values() ?? [])];
  const counts = [count(map.shards.size, 'shard'), ...(map.tenants === undefined ? [] : [count(tenants.length, 'tenant')])];
  return [
    `${what}: shard label ${map.shardLabel}, ${counts.join(', ')}${listen === undefined ? '' : `, listen ${listen}`}`,
    ...[...map.shards.values()].map((shard) => `  ${shardName(shard.name)}: ${describeShard(shard)}`),
    ...tenants.map((tenant) => `  tenant ${tenant.name}: ${describeTenant(tenant)}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// diff

async function diff(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, { ...TARGET_OPTIONS, 'shard-label': { type: 'string' } });
  const [file, ...others] = positionals;
  if (file === undefined) throw new UsageError('shards diff takes the shard map FILE to compare');
  const target = targetOf(values, others, 'diff');
  const shardLabel = values['shard-label'];
  if (shardLabel !== undefined && target.kind !== 'ssmPath') throw new UsageError('--shard-label goes with --ssm-path only');

  try {
    const { map } = await loadShardMapFile(file);
    const description = describeTarget(target);
    // The per-shard layout has no shard label: the function's SHARD_LABEL is, if given.
    const inForce = await readTarget(target, shardLabel ?? map.shardLabel);
    const changes = diffShardMaps(inForce, map, { compareShardLabel: target.kind !== 'ssmPath' || shardLabel !== undefined });
    if (changes.length === 0) {
      print([`no differences: ${file} and ${description} hold the same map`]);
      return 0;
    }
    print([`--- ${description} (in force)`, `+++ ${file}`, ...changes.map(formatChange), summarizeChanges(changes)]);
    return 1;
  } catch (error) {
    // Like diff(1): 1 means "different", so every error is 2.
    throw new CommandError(error instanceof Error ? error.message : String(error), 2);
  }
}

async function readTarget(target: Target, pathShardLabel: string): Promise<ShardMap> {
  switch (target.kind) {
    case 'ssm':
      return ssmParameterSource(target.name).read();
    case 'ssmPath':
      return ssmPathSource(target.path, pathShardLabel).read();
    case 'oss':
      return ossObjectSource(ossObject(target)).read();
    case 'file':
      return (await loadShardMapFile(target.path)).map;
  }
}

// ---------------------------------------------------------------------------------------------
// push

async function push(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    ...TARGET_OPTIONS,
    prune: { type: 'boolean' },
    secure: { type: 'boolean' },
    'kms-key-id': { type: 'string' },
  });
  const [file, ...others] = positionals;
  if (file === undefined) throw new UsageError('shards push takes the shard map FILE to write');
  const target = targetOf(values, others, 'push');
  if (target.kind === 'file') throw new UsageError('shards push writes to --ssm NAME, --ssm-path PATH or --oss BUCKET/KEY');
  if (values.prune && target.kind !== 'ssmPath') throw new UsageError('--prune goes with --ssm-path only');
  if ((values.secure || values['kms-key-id'] !== undefined) && target.kind === 'oss') {
    throw new UsageError('--secure and --kms-key-id go with --ssm and --ssm-path only');
  }

  // Everything that can be checked is checked before the first write; these errors exit 2.
  const loaded = await loadShardMapFile(file);
  const ssm = { secure: values.secure ?? false, ...(values['kms-key-id'] === undefined ? {} : { kmsKeyId: values['kms-key-id'] }) };
  switch (target.kind) {
    case 'ssm':
      return pushToParameter(file, loaded, target.name, ssm);
    case 'ssmPath':
      checkFitsSsmPath(file, loaded.map);
      return pushToPath(file, loaded.map, target.path, { ...ssm, prune: values.prune ?? false });
    case 'oss':
      return pushToOss(file, loaded, ossObject(target));
  }
}

interface SsmPushOptions {
  readonly secure: boolean;
  readonly kmsKeyId?: string;
}

async function pushToParameter(file: string, loaded: LoadedShardMap, name: string, options: SsmPushOptions): Promise<number> {
  const value = shardMapJson(loaded.map);
  const type = options.secure || [...loaded.map.shards.values()].some(hasHeaders) ? 'SecureString' : 'String';
  const version = await written(() => writeSsmParameter({ name, value, type, ...options }));
  const details = [type, ...(version === undefined ? [] : [`version ${version}`]), `${Buffer.byteLength(value)} bytes`];
  print(describeMap(`wrote SSM parameter ${name} (${details.join(', ')}) from ${file}`, { map: loaded.map }));
  return 0;
}

async function pushToOss(file: string, loaded: LoadedShardMap, object: OssObject): Promise<number> {
  const content = shardMapJson(loaded.map, { pretty: true });
  const { etag } = await written(() => writeOssObject(object, content, 'application/json'));
  const details = ['application/json', `${Buffer.byteLength(content)} bytes`, ...(etag === undefined ? [] : [`ETag ${etag}`])];
  print(describeMap(`wrote oss://${object.bucket}/${object.key} (${details.join(', ')}) from ${file}`, { map: loaded.map }));
  return 0;
}

/**
 * One parameter per shard, PATH/<shard>: new and changed values are written (PutParameter with
 * Overwrite), unchanged ones left as they are. Parameters at PATH that name no shard of the map
 * are reported, and deleted with `prune`: until then the functions still route to them.
 */
async function pushToPath(file: string, map: ShardMap, path: string, options: SsmPushOptions & { readonly prune: boolean }): Promise<number> {
  const hierarchy = ssmHierarchy(path);
  const parameterName = (shard: string) => `${hierarchy.replace(/\/$/, '')}/${shard}`;
  const existing = new Map((await written(() => readSsmPath(hierarchy))).map((parameter) => [parameter.name, parameter]));
  const wanted = new Set([...map.shards.keys()].map(parameterName));
  const counts = { added: 0, changed: 0, unchanged: 0, deleted: 0, stale: 0 };
  // Line by line as it goes: if a write fails, what was written before it has been reported.
  const report = (line: string) => print([line]);

  if (map.shardLabel !== DEFAULT_SHARD_LABEL) {
    report(`note: an SSM path holds no shard label: set the function's SHARD_LABEL to ${map.shardLabel} (serverless.yml: shardLabel)`);
  }
  for (const shard of map.shards.values()) {
    const name = parameterName(shard.name);
    const value = shardValue(shard);
    const type = options.secure || hasHeaders(shard) ? 'SecureString' : 'String';
    const before = existing.get(name);
    if (before !== undefined && before.value === value && before.type === type) {
      counts.unchanged += 1;
      report(`unchanged ${name}`);
      continue;
    }
    const version = await written(() => writeSsmParameter({ name, value, type, ...options }));
    const what = before === undefined ? 'added' : 'changed';
    counts[what] += 1;
    report(`${what.padEnd(9)} ${name} (${type}${version === undefined ? '' : `, version ${version}`}): ${describeShard(shard)}`);
  }
  for (const name of existing.keys()) {
    if (wanted.has(name)) continue;
    if (options.prune) {
      await written(() => deleteSsmParameter(name));
      counts.deleted += 1;
      report(`deleted   ${name}`);
    } else {
      counts.stale += 1;
      report(`stale     ${name}: no shard of ${file}; the functions still route to it (--prune deletes it)`);
    }
  }
  const summary = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([what, count]) => `${count} ${what}`)
    .join(', ');
  print([`SSM path ${hierarchy}: ${summary}`]);
  return 0;
}

/**
 * Parameter names allow letters, digits and "_.-" (and "/", which would nest the shard a level
 * deeper). A path holds shards only: tenants need a document (--ssm, --oss).
 */
function checkFitsSsmPath(file: string, map: ShardMap): void {
  if (map.tenants !== undefined) {
    throw new ShardMapError(`cannot push ${file} to an SSM path: it has tenants, which only a whole document holds (push it with --ssm NAME or --oss BUCKET/KEY)`);
  }
  const invalid = [...map.shards.keys()].filter((name) => !/^[A-Za-z0-9_.-]+$/.test(name));
  if (invalid.length > 0) {
    throw new ShardMapError(
      `cannot push ${file} to an SSM path: a shard name must be usable as a parameter name (letters, digits, "_", "." and "-")`,
      invalid.map((name) => `shards[${JSON.stringify(name)}]: not a valid SSM parameter name`),
    );
  }
}

/** Runs a write (or the read before it): its failure ends the command with exit 1. */
async function written<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw new CommandError(error instanceof Error ? error.message : String(error), 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

/** node:util's parseArgs, strict, with positionals; a mistake in the command line is a UsageError. */
export function parseCommandLine<const TOptions extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: TOptions) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's ERR_PARSE_ARGS_* errors: an unknown option, a missing value.
    if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(error.message);
    throw error;
  }
}

/** Exactly one of --ssm, --ssm-path, --oss or (diff) OTHERFILE. `--ssm NAME/` is a path: no parameter name ends with "/". */
function targetOf(
  values: { readonly ssm?: string | undefined; readonly 'ssm-path'?: string | undefined; readonly oss?: string | undefined },
  others: readonly string[],
  command: 'diff' | 'push',
): Target {
  const targets: Target[] = [];
  if (values.ssm !== undefined) {
    targets.push(values.ssm.endsWith('/') ? { kind: 'ssmPath', path: values.ssm } : { kind: 'ssm', name: values.ssm });
  }
  if (values['ssm-path'] !== undefined) targets.push({ kind: 'ssmPath', path: values['ssm-path'] });
  if (values.oss !== undefined) targets.push(ossTarget(values.oss));
  if (command === 'diff') targets.push(...others.map((path): Target => ({ kind: 'file', path })));
  else if (others.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(others[0])}`);
  const [only, ...more] = targets;
  const choices = command === 'diff' ? '--ssm NAME, --ssm-path PATH, --oss BUCKET/KEY or OTHERFILE' : '--ssm NAME, --ssm-path PATH or --oss BUCKET/KEY';
  if (only === undefined || more.length > 0) throw new UsageError(`shards ${command} takes exactly one of ${choices}`);
  for (const target of targets) {
    if (target.kind === 'ssm' && target.name === '') throw new UsageError('--ssm wants a parameter name');
    if (target.kind === 'ssmPath' && !target.path.startsWith('/')) throw new UsageError(`--ssm-path must start with "/", got ${JSON.stringify(target.path)}`);
  }
  return only;
}

/** "bucket/key" or "oss://bucket/key". */
function ossTarget(text: string): Target {
  const match = /^(?:oss:\/\/)?([^/]+)\/(.+)$/.exec(text);
  if (match === null) throw new UsageError(`--oss wants BUCKET/KEY, got ${JSON.stringify(text)}`);
  return { kind: 'oss', bucket: match[1]!, key: match[2]! };
}

function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'ssm':
      return `SSM parameter ${target.name}`;
    case 'ssmPath':
      return `SSM path ${ssmHierarchy(target.path)}`;
    case 'oss':
      return `oss://${target.bucket}/${target.key}`;
    case 'file':
      return target.path;
  }
}

/** From the operator's machine: the region's public endpoint, not the functions' VPC-internal one. */
function ossObject({ bucket, key }: { readonly bucket: string; readonly key: string }): OssObject {
  return {
    bucket,
    key,
    endpoint: ossEndpointFromEnv(process.env, { internal: false }),
    credentials: () =>
      alibabaCredentialsFromEnv(
        process.env,
        'OSS',
        'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN with temporary credentials)',
      ),
  };
}

function print(lines: readonly string[]): void {
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

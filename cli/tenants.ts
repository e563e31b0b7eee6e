/**
 * `prome-route tenants add NAME --shards a,b`: a new tenant's token and its shard map entry. The
 * token is printed once and stored nowhere; the map holds only its sha256, so the map can stay a
 * plain parameter and whoever reads it cannot query as the tenant.
 */
import { createHash, randomBytes } from 'node:crypto';
import { tenantDocument } from '../lib/shards/document.ts';
import { parseShardMap } from '../lib/shards/schema.ts';
import { parseCommandLine, UsageError } from './shards.ts';

export const TENANTS_USAGE = `  prome-route tenants add NAME --shards a,b
      A new random bearer token for tenant NAME (printed once, stored nowhere) and the entry to put
      into the shard map's "tenants": the token's sha256 and the shards the tenant sees.
`;

/** Runs `prome-route tenants …` (`args` after "tenants"); the exit code. */
export function tenantsCommand(args: readonly string[]): number {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'add':
      return add(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`Usage:\n${TENANTS_USAGE}`);
      return 0;
    default:
      throw new UsageError(`unknown tenants command ${JSON.stringify(subcommand)}: add`);
  }
}

function add(args: readonly string[]): number {
  const { values, positionals } = parseCommandLine(args, { shards: { type: 'string', multiple: true } });
  const [name, ...others] = positionals;
  if (name === undefined || others.length > 0) throw new UsageError('tenants add takes one tenant NAME');
  const shards = (values.shards ?? []).flatMap((list) => list.split(','));
  if (shards.length === 0) throw new UsageError('tenants add needs --shards, the shards the tenant sees (a,b)');

  // 256 random bits: as strong as the hash that stands for it in the map.
  const token = randomBytes(32).toString('base64url');
  const entry = { tokenSha256: createHash('sha256').update(token).digest('hex'), shards };
  // The map's own rules check the name and the shard list; the shards' addresses do not matter here
  // (`shards validate` checks the edited map against its real shards).
  const [tenant] = parseShardMap(
    { shards: Object.fromEntries(shards.map((shard) => [shard, 'http://shard.invalid'])), tenants: { [name]: entry } },
    `entry for tenant ${JSON.stringify(name)}`,
  ).tenants!.values();

  process.stdout.write([
    `token for tenant ${name} (shown only now: give it to the team, e.g. as their Grafana data source's`,
    '"Authorization: Bearer <token>" header; the shard map keeps only its sha256):',
    `  ${token}`,
    '',
    'add to the shard map\'s "tenants" (JSON; YAML reads it as is), then `prome-route shards validate` and `push`:',
    `  ${JSON.stringify(name)}: ${JSON.stringify(tenantDocument(tenant!))}`,
    '',
  ].join('\n'));
  return 0;
}

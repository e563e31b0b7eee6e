/**
 * What changes between two shard maps: the map in force and the one about to replace it. Header
 * values are often credentials, so a change never carries them: only which header was added,
 * removed or changed. Likewise a tenant's token hash: only that it changed.
 */
import { hasHeaders } from './document.ts';
import type { ReplicasMode, Shard, ShardMap, Tenant } from './schema.ts';

export type ShardMapChange =
  | { readonly kind: 'shardLabel'; readonly from: string; readonly to: string }
  | { readonly kind: 'added'; readonly shard: Shard }
  | { readonly kind: 'removed'; readonly shard: Shard }
  | { readonly kind: 'urls'; readonly name: string; readonly from: readonly string[]; readonly to: readonly string[] }
  | { readonly kind: 'header'; readonly name: string; readonly header: string; readonly change: 'added' | 'removed' | 'changed' }
  | { readonly kind: 'timeoutMs' | 'hedgeAfterMs'; readonly name: string; readonly from?: number; readonly to?: number }
  | { readonly kind: 'replicas'; readonly name: string; readonly from: ReplicasMode; readonly to: ReplicasMode }
  | { readonly kind: 'tenantAdded' | 'tenantRemoved'; readonly tenantName: string; readonly shards: readonly string[] }
  | { readonly kind: 'tenantShards'; readonly tenantName: string; readonly from: readonly string[]; readonly to: readonly string[] }
  | { readonly kind: 'tenantToken'; readonly tenantName: string };

/** The kinds that change a shard that stays in the map. */
const SHARD_CHANGES: ReadonlySet<ShardMapChange['kind']> = new Set(['urls', 'header', 'timeoutMs', 'hedgeAfterMs', 'replicas']);

export interface DiffOptions {
  /** False where the map in force has no shard label of its own (the per-shard SSM layout). */
  readonly compareShardLabel?: boolean;
}

/**
 * The changes that turn `inForce` into `proposed`: the shard label first, then shards added,
 * removed and changed, then tenants added, removed and changed, each in its map's order. Replicas
 * are compared in order (it is their order of preference), headers by name, a tenant's shards as a
 * set (the order they are listed in changes nothing).
 */
export function diffShardMaps(inForce: ShardMap, proposed: ShardMap, { compareShardLabel = true }: DiffOptions = {}): ShardMapChange[] {
  const changes: ShardMapChange[] = [];
  if (compareShardLabel && inForce.shardLabel !== proposed.shardLabel) {
    changes.push({ kind: 'shardLabel', from: inForce.shardLabel, to: proposed.shardLabel });
  }
  for (const [name, shard] of proposed.shards) if (!inForce.shards.has(name)) changes.push({ kind: 'added', shard });
  for (const [name, shard] of inForce.shards) if (!proposed.shards.has(name)) changes.push({ kind: 'removed', shard });
  for (const [name, before] of inForce.shards) {
    const after = proposed.shards.get(name);
    if (after !== undefined) changes.push(...shardChanges(name, before, after));
  }
  const [was, is] = [inForce.tenants ?? new Map<string, Tenant>(), proposed.tenants ?? new Map<string, Tenant>()];
  for (const [name, { shards }] of is) if (!was.has(name)) changes.push({ kind: 'tenantAdded', tenantName: name, shards });
  for (const [name, { shards }] of was) if (!is.has(name)) changes.push({ kind: 'tenantRemoved', tenantName: name, shards });
  for (const [name, before] of was) {
    const after = is.get(name);
    if (after === undefined) continue;
    const same = before.shards.length === after.shards.length && before.shards.every((shard) => after.shards.includes(shard));
    if (!same) changes.push({ kind: 'tenantShards', tenantName: name, from: before.shards, to: after.shards });
    if (before.tokenSha256 !== after.tokenSha256) changes.push({ kind: 'tenantToken', tenantName: name });
  }
  return changes;
}

function shardChanges(name: string, before: Shard, after: Shard): ShardMapChange[] {
  const changes: ShardMapChange[] = [];
  if (before.urls.length !== after.urls.length || before.urls.some((url, index) => url !== after.urls[index])) {
    changes.push({ kind: 'urls', name, from: before.urls, to: after.urls });
  }
  const headers = (shard: Shard) => new Map(Object.entries(shard.headers));
  const [was, is] = [headers(before), headers(after)];
  for (const header of is.keys()) if (!was.has(header)) changes.push({ kind: 'header', name, header, change: 'added' });
  for (const [header, value] of was) {
    if (!is.has(header)) changes.push({ kind: 'header', name, header, change: 'removed' });
    else if (is.get(header) !== value) changes.push({ kind: 'header', name, header, change: 'changed' });
  }
  for (const kind of ['timeoutMs', 'hedgeAfterMs'] as const) {
    const [from, to] = [before[kind], after[kind]];
    if (from !== to) changes.push({ kind, name, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
  }
  const [from, to] = [before.replicas ?? 'failover', after.replicas ?? 'failover'];
  if (from !== to) changes.push({ kind: 'replicas', name, from, to });
  return changes;
}

/**
 * One line per change, `+` added, `-` removed, `~` changed:
 *   + d: http://10.3.1.10:9090
 *   ~ a: header Authorization changed (value not shown)
 */
export function formatChange(change: ShardMapChange): string {
  switch (change.kind) {
    case 'shardLabel':
      return `~ shard label: ${change.from} -> ${change.to}`;
    case 'added':
      return `+ ${shardName(change.shard.name)}: ${describeShard(change.shard)}`;
    case 'removed':
      return `- ${shardName(change.shard.name)}: ${describeShard(change.shard)}`;
    case 'urls':
      return `~ ${shardName(change.name)}: urls ${change.from.join(', ')} -> ${change.to.join(', ')}`;
    case 'header':
      return `~ ${shardName(change.name)}: header ${change.header} ${change.change}${change.change === 'removed' ? '' : ' (value not shown)'}`;
    case 'timeoutMs':
    case 'hedgeAfterMs':
      return `~ ${shardName(change.name)}: ${change.kind} ${change.from ?? 'none'} -> ${change.to ?? 'none'}`;
    case 'replicas':
      return `~ ${shardName(change.name)}: replicas ${change.from} -> ${change.to}`;
    case 'tenantAdded':
      return `+ tenant ${change.tenantName}: ${describeTenant(change)}`;
    case 'tenantRemoved':
      return `- tenant ${change.tenantName}: ${describeTenant(change)}`;
    case 'tenantShards':
      return `~ tenant ${change.tenantName}: shards ${change.from.map(shardName).join(', ')} -> ${change.to.map(shardName).join(', ')}`;
    case 'tenantToken':
      return `~ tenant ${change.tenantName}: token changed (hash not shown)`;
  }
}

/** "3 shards: 2 added, 1 changed; 1 tenant: 1 changed; shard label changed". */
export function summarizeChanges(changes: readonly ShardMapChange[]): string {
  const count = (kind: ShardMapChange['kind']) => changes.filter((change) => change.kind === kind).length;
  const changedShards = new Set(changes.flatMap((change) => (SHARD_CHANGES.has(change.kind) && 'name' in change ? [change.name] : []))).size;
  const changedTenants = new Set(changes.flatMap((change) => (change.kind === 'tenantShards' || change.kind === 'tenantToken' ? [change.tenantName] : []))).size;
  return [
    counted('shard', count('added'), count('removed'), changedShards),
    counted('tenant', count('tenantAdded'), count('tenantRemoved'), changedTenants),
    count('shardLabel') > 0 ? 'shard label changed' : '',
  ].filter(Boolean).join('; ');
}

/** "2 shards: 1 added, 1 changed", or "" when nothing changed. */
function counted(noun: string, added: number, removed: number, changed: number): string {
  const parts = [
    added > 0 ? `${added} added` : '',
    removed > 0 ? `${removed} removed` : '',
    changed > 0 ? `${changed} changed` : '',
  ].filter(Boolean);
  return parts.length === 0 ? '' : `${plural(added + removed + changed, noun)}: ${parts.join(', ')}`;
}

/** A shard on one line, header values left out: "http://a1, http://a2; headers Authorization; timeoutMs 20000". */
export function describeShard(shard: Shard): string {
  return [
    shard.urls.join(', '),
    hasHeaders(shard) ? `headers ${Object.keys(shard.headers).join(', ')}` : '',
    shard.timeoutMs === undefined ? '' : `timeoutMs ${shard.timeoutMs}`,
    shard.hedgeAfterMs === undefined ? '' : `hedgeAfterMs ${shard.hedgeAfterMs}`,
    shard.replicas === undefined ? '' : `replicas ${shard.replicas}`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** A tenant on one line, its token hash left out: "shards a, b". */
export function describeTenant(tenant: Pick<Tenant, 'shards'>): string {
  return `shards ${tenant.shards.map(shardName).join(', ')}`;
}

/** A shard name as written in these lines: quoted when it holds anything but letters, digits, "_", "." and "-". */
export function shardName(name: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(name) ? name : JSON.stringify(name);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

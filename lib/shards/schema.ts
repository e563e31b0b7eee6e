/**
 * The shard map: which collectors (per-cluster Prometheus servers) serve which shard, and the label
 * whose value in a query names the shard.
 *
 * Every config source (JSON/YAML file, the upstream Go proxy's YAML, parameters stored as text)
 * ends up here, so this module owns both the validation rules and the normalized types. Validation
 * collects every issue and renders each as "<path>: <reason>", the path written the way one would
 * point into the document (`shards["eu west"].urls[0]`), so one run shows everything to fix.
 */
import * as v from 'valibot';

export const DEFAULT_SHARD_LABEL = 'cluster';

export interface Shard {
  readonly name: string;
  /** Replicas serving the same data, in order of preference. Never empty; no trailing slash. */
  readonly urls: readonly string[];
  /** Extra request headers for this shard only (e.g. Authorization). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /**
   * With several replicas: if the first has not answered after this long, ask the next one as well
   * and take whichever answers first (the other request is cancelled; answers are never added up).
   */
  readonly hedgeAfterMs?: number;
  /**
   * How the replicas' data make the shard's: "failover" (absent: the same) takes the first replica
   * that answers; "merge" takes the union of all replicas' samples, read raw through remote read and
   * deduplicated (lib/replicas), so one replica's hole is filled from another.
   */
  readonly replicas?: ReplicasMode;
}

export type ReplicasMode = 'failover' | 'merge';

/** Whether the router merges the shard's replicas' data rather than asking one of them. */
export function mergesReplicas(shard: Shard): boolean {
  return shard.replicas === 'merge';
}

/** The names of the map's shards whose replicas the router merges (the planner's `mergedShards`). */
export function mergedShardNames(map: ShardMap): Set<string> {
  return new Set([...map.shards.values()].filter(mergesReplicas).map((s) => s.name));
}

export interface ShardMap {
  readonly shardLabel: string;
  /**
   * In document order, as far as JavaScript objects keep it: JSON.parse and the YAML parser hand us
   * objects, which list integer-like keys ("1", "2") before the others.
   */
  readonly shards: ReadonlyMap<string, Shard>;
  /**
   * Who may see which shards, by bearer token; absent: every caller the router admits sees every
   * shard. In document order, like `shards`.
   */
  readonly tenants?: ReadonlyMap<string, Tenant>;
}

/**
 * A team that sees only some shards: a request with its bearer token is answered as a Prometheus
 * holding only those shards' data would answer it.
 */
export interface Tenant {
  readonly name: string;
  /**
   * The sha256 of the tenant's bearer token, 64 lowercase hex digits: only the hash is stored, so the
   * map can stay a plain parameter. Never logged or shown.
   */
  readonly tokenSha256: string;
  /** Names of shards of the same map, in the order the document lists them; never empty. */
  readonly shards: readonly string[];
}

/** What a config source yields: the map, and the listen address when the source carries one. */
export interface LoadedShardMap {
  readonly map: ShardMap;
  readonly listen?: string;
}

export class ShardMapError extends Error {
  override readonly name = 'ShardMapError';
  /** One "<path>: <reason>" per problem in the document; empty when it could not be read or parsed at all. */
  readonly issues: readonly string[];

  constructor(summary: string, issues: readonly string[] = []) {
    super(issues.length === 0 ? summary : `${summary}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.issues = issues;
  }
}

/**
 * Validates a parsed shard map document:
 *   { "shardLabel"?: "cluster", "shards": { "<name>": "<url>" | { "urls": [...], "headers"?: {...}, "timeoutMs"?: n } },
 *     "tenants"?: { "<name>": { "tokenSha256": "<64 hex digits>", "shards": ["<shard name>", ...] } } }
 * Throws a ShardMapError listing all issues; `source` names the document in its message.
 */
export function parseShardMap(doc: unknown, source?: string): ShardMap {
  return parseOrThrow(ShardMapSchema, doc, source);
}

// ---------------------------------------------------------------------------------------------
// Building blocks, shared with upstream.ts so that both formats apply the same rules and messages.

/**
 * Prometheus' classic label-name syntax, which every PromQL client can write unquoted in a
 * selector. Names starting with "__" are reserved for Prometheus' internal labels.
 */
export const LabelNameSchema = v.pipe(
  v.string((issue) => `must be a valid label name, got ${shown(issue.input)}`),
  v.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, (issue) => `must be a valid label name, got ${shown(issue.input)}`),
  v.check(
    (name) => !name.startsWith('__'),
    (issue) => `must not start with "__" (reserved for Prometheus internal labels), got ${shown(issue.input)}`,
  ),
);

/** A JSON/YAML mapping. Arrays are objects in JavaScript too; without this, ["http://…"] would read as a shard named "0". */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly the keys of `entries`; `what` describes it for a value of the wrong type. */
export function strictObject<const TEntries extends v.ObjectEntries>(entries: TEntries, what: string) {
  const known = Object.keys(entries);
  // Once plainObject has passed, the only issue looseObject raises itself is a missing key.
  const object = v.looseObject(entries, 'is required');
  return v.pipe(
    plainObject(what),
    object,
    // v.strictObject stops at the first unknown key; list them all so one run shows every typo.
    v.rawCheck<v.InferOutput<typeof object>>(({ dataset, addIssue }) => {
      const input = dataset.value;
      if (!isPlainObject(input)) return;
      for (const key of Object.keys(input)) {
        if (known.includes(key)) continue;
        addIssue({
          message: `unknown key, expected one of ${known.join(', ')}`,
          path: [{ type: 'object', origin: 'key', input, key, value: input[key] }],
        });
      }
    }),
  );
}

/**
 * The shards of a document: a non-empty object of shard name → `shard`, read into a Map of named
 * shards. It goes through a Map rather than v.record because v.record silently skips the keys
 * "__proto__", "constructor" and "prototype", which are valid shard names.
 */
export function shardsSchema(shard: v.GenericSchema<unknown, ShardSpec>, what: string) {
  return v.pipe(
    plainObject(what),
    v.check((shards) => Object.keys(shards).length > 0, 'must name at least one shard'),
    v.transform(entryMap),
    v.map(ShardNameSchema, shard),
    v.transform((shards) => new Map<string, Shard>([...shards].map(([name, spec]) => [name, { name, ...spec }]))),
  );
}

/**
 * A shard given as a single URL. `assumeHttp` reads a bare "host:port" as http://host:port, as the
 * upstream format does; the native format wants the scheme spelled out so nothing meant for https
 * is silently sent in clear text.
 */
export function urlShardSchema({ assumeHttp = false } = {}) {
  return v.pipe(
    collectorUrlSchema(assumeHttp),
    v.transform((url): ShardSpec => ({ urls: [url], headers: {} })),
  );
}

/** Runs `schema` over a whole document and turns every issue it finds into one ShardMapError. */
export function parseOrThrow<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  doc: unknown,
  source: string | undefined,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, doc);
  if (result.success) return result.output;
  throw new ShardMapError(
    source === undefined ? 'invalid shard map' : `invalid shard map ${source}`,
    result.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`),
  );
}

// ---------------------------------------------------------------------------------------------
// The native format.

type ShardSpec = Omit<Shard, 'name'>;

/** Shard names become values of the shard label, which Prometheus requires to be valid UTF-8. */
const ShardNameSchema = v.pipe(
  v.string(),
  v.nonEmpty('shard name must not be empty'),
  // A lone UTF-16 surrogate (possible via a JSON "\ud800" escape) has no UTF-8 encoding.
  v.check((name) => !/\p{Surrogate}/u.test(name), 'shard name must be valid UTF-8'),
);

/** Checked here, at load time, rather than by fetch on every request to the shard. */
const HeadersSchema = v.pipe(
  plainObject('must be an object of header names to values'),
  v.transform(entryMap),
  v.map(
    v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid HTTP header name')),
    // Header values are often secrets, so messages never echo them.
    v.pipe(
      v.string((issue) => `must be a string, got ${shown(issue.input)}`),
      v.check((value) => !/[\r\n\0]/.test(value), 'must not contain line breaks or NUL characters'),
    ),
  ),
  v.transform((headers): Record<string, string> => Object.fromEntries(headers)),
);

const timeoutMessage = (issue: v.BaseIssue<unknown>) =>
  `must be a positive integer (milliseconds), got ${shown(issue.input)}`;

const positiveMilliseconds = v.pipe(
  v.number(timeoutMessage),
  v.check((ms) => Number.isSafeInteger(ms) && ms > 0, timeoutMessage),
);

const ShardObjectSchema = v.pipe(
  strictObject(
    {
      urls: v.pipe(
        v.array(collectorUrlSchema(false), (issue) => `must be a list of URLs, got ${shown(issue.input)}`),
        v.minLength(1, 'must list at least one URL'),
      ),
      headers: v.optional(HeadersSchema, {}),
      timeoutMs: v.optional(positiveMilliseconds),
      hedgeAfterMs: v.optional(positiveMilliseconds),
      replicas: v.optional(v.picklist(['failover', 'merge'], (issue) => `must be "failover" or "merge", got ${shown(issue.input)}`)),
    },
    'must be a URL string or an object with "urls"',
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    const value = dataset.value as { replicas?: unknown; hedgeAfterMs?: unknown };
    if (!dataset.typed || value.replicas !== 'merge' || value.hedgeAfterMs === undefined) return;
    addIssue({ message: 'applies to "replicas": "failover" only: with "merge" every replica is asked', path: pathTo('hedgeAfterMs') });
  }),
  v.transform(({ urls, headers, timeoutMs, hedgeAfterMs, replicas }): ShardSpec => ({
    urls,
    headers,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(hedgeAfterMs === undefined ? {} : { hedgeAfterMs }),
    ...(replicas === undefined ? {} : { replicas }),
  })),
);

// Dispatching on the input's type (rather than v.union) keeps the issues of the form the user chose,
// instead of a union issue that mixes in why the other form did not match.
const UrlShardSchema = urlShardSchema();
const ShardSchema = v.lazy((input) => (typeof input === 'string' ? UrlShardSchema : ShardObjectSchema));

// Tenants. Neither tokens nor hashes ever appear in a message: a hash identifies its token.

/** Tenant names go into log lines and CLI output as they are. */
const TenantNameSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_.-]+$/, (issue) => `tenant name must be letters, digits, "_", "." or "-", got ${shown(issue.input)}`),
);

const TOKEN_HASH = /^[0-9a-fA-F]{64}$/;
const tokenHashMessage = 'must be the sha256 of the tenant\'s token as 64 hexadecimal digits (prome-route tenants add prints it)';

const TenantShardsSchema = v.pipe(
  v.array(v.string((issue) => `must be a shard name, got ${shown(issue.input)}`), (issue) => `must be a list of shard names, got ${shown(issue.input)}`),
  v.minLength(1, 'must list at least one shard'),
  v.rawCheck<string[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const input = dataset.value;
    input.forEach((name, index) => {
      if (input.indexOf(name) === index) return;
      addIssue({ message: `lists shard ${shown(name)} twice`, path: [{ type: 'array', origin: 'value', input, key: index, value: name }] });
    });
  }),
);

const TenantSchema = strictObject(
  {
    tokenSha256: v.pipe(v.string(tokenHashMessage), v.regex(TOKEN_HASH, tokenHashMessage), v.toLowerCase()),
    shards: TenantShardsSchema,
  },
  'must be an object with "tokenSha256" and "shards"',
);

const TenantsSchema = v.pipe(
  plainObject('must be an object of tenant names to tenants'),
  v.transform(entryMap),
  v.map(TenantNameSchema, TenantSchema),
  v.transform((tenants) => new Map<string, Tenant>([...tenants].map(([name, tenant]) => [name, { name, ...tenant }]))),
);

/**
 * What no single field can check: a tenant's shards are shards of the map, and no two tenants share a
 * token. `document` is whatever the fields made of the document, valid or not, so these issues are
 * listed together with the fields' own.
 */
function checkTenantReferences(document: unknown, addIssue: (issue: { message: string; path: IssuePath }) => void): void {
  if (!isPlainObject(document)) return;
  const { shards, tenants } = document;
  if (!(tenants instanceof Map)) return;
  const owners = new Map<string, string>();
  for (const [name, tenant] of tenants as Map<string, { shards?: unknown; tokenSha256?: unknown }>) {
    if (shards instanceof Map && Array.isArray(tenant.shards)) {
      tenant.shards.forEach((shard: unknown, index) => {
        if (typeof shard === 'string' && !shards.has(shard)) {
          addIssue({ message: `unknown shard ${shown(shard)}: not in "shards"`, path: pathTo('tenants', name, 'shards', index) });
        }
      });
    }
    if (typeof tenant.tokenSha256 !== 'string' || !TOKEN_HASH.test(tenant.tokenSha256)) continue;
    const hash = tenant.tokenSha256.toLowerCase();
    const owner = owners.get(hash);
    if (owner === undefined) owners.set(hash, name);
    else addIssue({ message: `the same hash as tenant ${shown(owner)}: every tenant needs a token of its own`, path: pathTo('tenants', name, 'tokenSha256') });
  }
}

const ShardMapSchema = v.pipe(
  strictObject(
    {
      shardLabel: v.optional(LabelNameSchema, DEFAULT_SHARD_LABEL),
      shards: shardsSchema(ShardSchema, 'must be an object of shard names to shards'),
      tenants: v.optional(TenantsSchema),
    },
    'must be an object with "shards"',
  ),
  v.rawCheck(({ dataset, addIssue }) => checkTenantReferences(dataset.value, addIssue)),
  v.transform(({ shardLabel, shards, tenants }): ShardMap => ({ shardLabel, shards, ...(tenants === undefined ? {} : { tenants }) })),
);

// ---------------------------------------------------------------------------------------------
// Helpers.

function plainObject(what: string) {
  return v.custom<Record<string, unknown>>(isPlainObject, (issue) => `${what}, got ${shown(issue.input)}`);
}

function entryMap(object: Record<string, unknown>): Map<string, unknown> {
  return new Map(Object.entries(object));
}

/**
 * A collector base URL, normalized to origin + path without a trailing slash, so the router can
 * append "/api/v1/…". The path may carry a prefix (http://host/prometheus); a query string or
 * fragment would be lost when the router builds its own URLs, so they are rejected.
 */
function collectorUrlSchema(assumeHttp: boolean) {
  const withScheme = (url: string) => (assumeHttp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? `http://${url}` : url);
  return v.pipe(
    v.string((issue) => `must be a URL string, got ${shown(issue.input)}`),
    v.rawCheck<string>(({ dataset, addIssue }) => {
      const problem = dataset.typed ? urlProblem(withScheme(dataset.value), dataset.value) : undefined;
      if (problem !== undefined) addIssue({ message: problem });
    }),
    v.transform((url) => {
      const { origin, pathname } = new URL(withScheme(url));
      return (origin + pathname).replace(/\/+$/, '');
    }),
  );
}

/** Why `url` cannot be a collector base URL, or undefined if it can. `asWritten` is what the user wrote. */
function urlProblem(url: string, asWritten: string): string | undefined {
  // The URL parser is lenient with http(s): it reads "http:host" as http://host/. Insist on the "//".
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    return `must be an absolute http(s) URL, got ${shown(asWritten)}`;
  }
  const { username, password } = new URL(url);
  // Not echoed: the value holds a secret.
  if (username !== '' || password !== '') return 'must not contain a username or password (put credentials in "headers")';
  // Test the text: the parser drops an empty query or fragment ("http://host/?").
  const [beforeFragment = ''] = url.split('#', 1);
  if (beforeFragment.includes('?')) return `must not have a query string, got ${shown(asWritten)}`;
  if (url.includes('#')) return `must not have a fragment, got ${shown(asWritten)}`;
  return undefined;
}

/** A rejected value for a message: strings quoted (so "" and " x" stay visible), containers by kind. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** An issue path to a place in the document that no schema is looking at (cross-field checks). */
type IssuePath = [v.IssuePathItem, ...v.IssuePathItem[]];

function pathTo(first: string, ...keys: (string | number)[]): IssuePath {
  const item = (key: string | number): v.UnknownPathItem => ({ type: 'unknown', origin: 'value', input: undefined, key, value: undefined });
  return [item(first), ...keys.map(item)];
}

/** Renders an issue path as one would point into the document: shards.b.urls[0], shards["eu west"]. */
function pathOf(path: readonly v.IssuePathItem[] | undefined): string {
  if (path === undefined || path.length === 0) return '(root)';
  return path
    .map(({ key }, index) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `[${JSON.stringify(name)}]`;
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}

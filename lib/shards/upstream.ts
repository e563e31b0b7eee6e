/**
 * The config of the Go prome-route proxy (github.com/ning1875/prome-route), accepted unchanged so
 * its users can switch with their config as is:
 *
 *   replace_label_name: cluster
 *   prome_servers:
 *     a: "1.1.1.1:9090"
 *   http:
 *     listen_addr: ":8080"
 *
 * The Go proxy read it with yaml.UnmarshalStrict, so unknown keys are errors here too.
 */
import * as v from 'valibot';
import {
  DEFAULT_SHARD_LABEL,
  isPlainObject,
  LabelNameSchema,
  parseOrThrow,
  shardsSchema,
  strictObject,
  urlShardSchema,
  type LoadedShardMap,
} from './schema.ts';

const UPSTREAM_KEYS = ['replace_label_name', 'prome_servers', 'http'];

/** Whether `doc` is in the upstream format: it has one of its keys and not the native "shards". */
export function isUpstreamConfig(doc: unknown): boolean {
  return isPlainObject(doc) && !Object.hasOwn(doc, 'shards') && UPSTREAM_KEYS.some((key) => Object.hasOwn(doc, key));
}

/**
 * Converts an upstream config into a shard map. `listen` is http.listen_addr as given (":8080" means
 * port 8080 on all interfaces). Throws ShardMapError with paths into the upstream document.
 */
export function fromUpstreamConfig(doc: unknown, source?: string): LoadedShardMap {
  return parseOrThrow(UpstreamSchema, doc, source);
}

const UpstreamSchema = v.pipe(
  strictObject(
    {
      // Go fell back to "cluster" for an empty name; in YAML, a key with no value is null.
      replace_label_name: v.nullish(
        v.pipe(
          v.unknown(),
          v.transform((name) => (name === '' ? DEFAULT_SHARD_LABEL : name)),
          LabelNameSchema,
        ),
        DEFAULT_SHARD_LABEL,
      ),
      // Go prefixed "http://" to each address; full URLs are accepted too.
      prome_servers: shardsSchema(
        urlShardSchema({ assumeHttp: true }),
        'must be an object of shard names to "host:port" addresses',
      ),
      http: v.nullish(
        strictObject(
          { listen_addr: v.nullish(v.string('must be an address like ":8080"')) },
          'must be an object with "listen_addr"',
        ),
      ),
    },
    'must be an object with "prome_servers"',
  ),
  v.transform(({ replace_label_name, prome_servers, http }): LoadedShardMap => {
    const map = { shardLabel: replace_label_name, shards: prome_servers };
    return http?.listen_addr ? { map, listen: http.listen_addr } : { map };
  }),
);

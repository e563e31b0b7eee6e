/**
 * A shard map document (JSON or YAML) in an Alibaba Cloud OSS object. Each read sends the ETag of
 * the map in force as If-None-Match, so an unchanged object costs a 304 and no download or parse.
 */
import type OSS from 'ali-oss';
import type { AlibabaCredentials } from './alibaba.ts';
import { parseShardMapText } from './file.ts';
import type { ShardMapSource } from './loader.ts';
import { ShardMapError, type ShardMap } from './schema.ts';

export interface OssObject {
  readonly bucket: string;
  readonly key: string;
  /** "https://oss-cn-hangzhou-internal.aliyuncs.com"; without a scheme, https is assumed. */
  readonly endpoint: string;
  /** Asked before every request: Function Compute hands out fresh role credentials per invocation. */
  readonly credentials: () => AlibabaCredentials;
}

export function ossObjectSource({ bucket, key, endpoint, credentials }: OssObject): ShardMapSource {
  const description = `oss://${bucket}/${key}`;
  let client: OSS | undefined;
  // The ETag and the map read with it: only a map that passed validation, so an invalid object
  // is downloaded (and reported) again on every refresh rather than hidden behind 304s.
  let last: { readonly etag: string; readonly map: ShardMap } | undefined;

  return {
    description,
    async read() {
      let result: OSS.GetObjectResult;
      try {
        client ??= await createClient(bucket, endpoint, credentials);
        result = await client.get(key, { headers: last === undefined ? {} : { 'If-None-Match': last.etag } });
      } catch (error) {
        throw new ShardMapError(`cannot read shard map ${description}: ${ossFailure(error)}`);
      }
      if (result.res.status === 304 && last !== undefined) return last.map;
      const { map } = parseShardMapText((result.content as Buffer).toString('utf8'), description);
      const { etag } = result.res.headers as { etag?: string };
      last = etag === undefined ? undefined : { etag, map };
      return map;
    },
  };
}

/**
 * PutObject, for `prome-route shards push`: `content` with `contentType`; the new object's ETag.
 * Failures are plain Errors ("cannot write oss://b/k: 403 AccessDenied: …").
 */
export async function writeOssObject(
  { bucket, key, endpoint, credentials }: OssObject,
  content: string,
  contentType: string,
): Promise<{ readonly etag?: string }> {
  try {
    const client = await createClient(bucket, endpoint, credentials);
    const { res } = await client.put(key, Buffer.from(content, 'utf8'), { mime: contentType });
    const { etag } = res.headers as { etag?: string };
    return etag === undefined ? {} : { etag };
  } catch (error) {
    throw new Error(`cannot write oss://${bucket}/${key}: ${ossFailure(error)}`);
  }
}

/** ali-oss loads on first use, so that other platforms' bundles never load it. */
async function createClient(bucket: string, endpoint: string, credentials: () => AlibabaCredentials): Promise<OSS> {
  const { default: OSS } = await import('ali-oss');
  const initial = credentials();
  return new OSS({
    bucket,
    endpoint,
    secure: true,
    accessKeyId: initial.accessKeyId,
    accessKeySecret: initial.accessKeySecret,
    timeout: 5_000,
    ...(initial.securityToken === undefined
      ? {}
      : {
          stsToken: initial.securityToken,
          // ali-oss asks this before a request once the interval has passed; 0: before every one.
          refreshSTSTokenInterval: 0,
          refreshSTSToken: async () => {
            const { accessKeyId, accessKeySecret, securityToken = '' } = credentials();
            return { accessKeyId, accessKeySecret, stsToken: securityToken };
          },
        }),
  });
}

/**
 * "403 AccessDenied: The bucket you access does not belong to you." from an OSS error document, or
 * "RequestError: connect ECONNREFUSED …" (ali-oss uses negative statuses for network errors).
 */
function ossFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { status, code } = error as { status?: number; code?: string };
  const prefix = [status !== undefined && status > 0 ? String(status) : '', code ?? ''].filter(Boolean).join(' ');
  // A network error's message goes on with the HTTP agent's socket statistics; the first part says it.
  const message = (error.message.split('\n', 1)[0] ?? '').replace(/ \(connected: .*$/, '');
  return prefix === '' ? message : `${prefix}: ${message}`;
}

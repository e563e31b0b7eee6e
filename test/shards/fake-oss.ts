/**
 * A local stand-in for Alibaba Cloud OSS, answering GetObject and PutObject the way the service does,
 * so tests run the real ali-oss client against it: requests signed with the OSS (V1) signature and checked
 * against the keys it knows, the bucket named by the Host header (ali-oss sends
 * "<bucket>.oss-<region>.aliyuncs.com" when the endpoint is an IP address), quoted MD5 ETags,
 * If-None-Match answered with 304, a PUT's Content-MD5 checked against its body, and errors as
 * OSS's XML documents.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from '../support/loopback.ts';

export interface OssRequest {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly ifNoneMatch?: string;
  readonly status: number;
}

export interface OssKey {
  readonly secret: string;
  /** The security token temporary credentials must send along. */
  readonly token?: string;
}

export interface FakeOss {
  readonly url: string;
  readonly requests: OssRequest[];
  /** Access key ID → key; requests signed with anything else are refused. */
  readonly keys: Map<string, OssKey>;
  /** Stores an object (as PutObject would), with a new ETag when the content changed. */
  put(bucket: string, key: string, content: string): void;
  /** An object as stored, or undefined. */
  get(bucket: string, key: string): StoredObject | undefined;
  /** While set, every request gets this error instead. */
  failure: { status: number; code: string; message: string } | null;
  close(): Promise<void>;
}

export interface StoredObject {
  readonly content: string;
  readonly etag: string;
  readonly contentType?: string;
}

export async function startFakeOss(): Promise<FakeOss> {
  const objects = new Map<string, StoredObject>();
  const requests: OssRequest[] = [];
  const fake: Omit<FakeOss, 'url' | 'close'> = {
    requests,
    keys: new Map(),
    failure: null,
    put(bucket, key, content) {
      store(bucket, key, Buffer.from(content, 'utf8'));
    },
    get: (bucket, key) => objects.get(`${bucket}/${key}`),
  };

  function store(bucket: string, key: string, body: Buffer, contentType?: string): StoredObject {
    const object = {
      content: body.toString('utf8'),
      etag: `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`,
      ...(contentType === undefined ? {} : { contentType }),
    };
    objects.set(`${bucket}/${key}`, object);
    return object;
  }

  function answer(request: IncomingMessage, response: ServerResponse, bucket: string, key: string, body: Buffer, ifNoneMatch?: string): number {
    if (fake.failure !== null) return error(response, fake.failure.status, fake.failure.code, fake.failure.message);
    const denied = authenticationProblem(request, bucket, key, fake.keys);
    if (denied !== undefined) return error(response, 403, denied.code, denied.message);
    if (request.method === 'PUT') return putObject(request, response, bucket, key, body);
    if (request.method !== 'GET') return error(response, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const object = objects.get(`${bucket}/${key}`);
    if (object === undefined) return error(response, 404, 'NoSuchKey', 'The specified key does not exist.');
    const headers = { etag: object.etag, 'x-oss-request-id': `req-${requests.length + 1}` };
    if (ifNoneMatch === object.etag) {
      response.writeHead(304, headers).end();
      return 304;
    }
    response.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(object.content) });
    response.end(object.content);
    return 200;
  }

  /** PutObject: a Content-MD5, when sent, must be the body's (ali-oss always sends one). */
  function putObject(request: IncomingMessage, response: ServerResponse, bucket: string, key: string, body: Buffer): number {
    const md5 = request.headers['content-md5'];
    if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) {
      return error(response, 400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
    }
    const contentType = request.headers['content-type'];
    const { etag } = store(bucket, key, body, contentType);
    response.writeHead(200, { etag, 'x-oss-request-id': `req-${requests.length + 1}`, 'content-length': 0 }).end();
    return 200;
  }

  return Object.assign(fake, await serveOnLoopback((request, body, response) => {
    const bucket = String(request.headers.host ?? '').split('.', 1)[0] ?? '';
    const key = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname.slice(1));
    const ifNoneMatch = request.headers['if-none-match'];
    const status = answer(request, response, bucket, key, body, ifNoneMatch);
    requests.push({ method: request.method ?? '', bucket, key, ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }), status });
  }));
}

/** Checks "Authorization: OSS <AccessKeyId>:<Signature>" as OSS does for V1 signatures. */
function authenticationProblem(
  request: IncomingMessage,
  bucket: string,
  key: string,
  keys: ReadonlyMap<string, OssKey>,
): { code: string; message: string } | undefined {
  const match = /^OSS ([^:]+):(.+)$/.exec(String(request.headers.authorization ?? ''));
  const known = match === null ? undefined : keys.get(match[1] ?? '');
  if (match === null || known === undefined) {
    return { code: 'InvalidAccessKeyId', message: 'The OSS Access Key Id you provided does not exist in our records.' };
  }
  if (known.token !== undefined && request.headers['x-oss-security-token'] !== known.token) {
    return { code: 'InvalidSecurityToken', message: 'The security token you provided is invalid.' };
  }
  const header = (name: string) => String(request.headers[name] ?? '');
  const ossHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${header(name).trim()}`);
  const stringToSign = [
    request.method,
    header('content-md5'),
    header('content-type'),
    header('x-oss-date'),
    ...ossHeaders,
    `/${bucket}/${key}`,
  ].join('\n');
  const expected = createHmac('sha1', known.secret).update(stringToSign).digest('base64');
  if (match[2] !== expected) {
    return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  return undefined;
}

function error(response: ServerResponse, status: number, code: string, message: string): number {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>5C3D9175B6FC201293AD****</RequestId>\n` +
    '  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>\n</Error>\n';
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  response.end(body);
  return status;
}

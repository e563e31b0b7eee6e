/**
 * A local stand-in for Alibaba Cloud CloudOps Orchestration Service (OOS), speaking Alibaba Cloud's RPC
 * protocol as the service does, so tests run the real @alicloud/pop-core client against it: requests
 * (query string or form body) signed with HMAC-SHA1 over the sorted, percent-encoded parameters and
 * checked against the keys it knows (security tokens too), Version 2019-06-01, and JSON answers and
 * error documents (Code, Message, RequestId, HostId). Only what reading the token uses:
 * GetSecretParameter with WithDecryption.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { serveOnLoopback } from '../support/loopback.ts';
import type { OssKey } from './fake-oss.ts';

export interface OosRequest {
  readonly action: string;
  readonly params: Record<string, string>;
  readonly status: number;
}

export interface FakeOos {
  readonly url: string;
  readonly requests: OosRequest[];
  /** Access key ID → key; requests signed with anything else are refused. */
  readonly keys: Map<string, OssKey>;
  /** Creates the encrypted parameter or a new version of it. */
  put(name: string, value: string): void;
  close(): Promise<void>;
}

interface Stored {
  readonly value: string;
  readonly version: number;
  readonly updated: string;
}

export async function startFakeOos(region = 'cn-hangzhou'): Promise<FakeOos> {
  const parameters = new Map<string, Stored>();
  const requests: OosRequest[] = [];
  const keys = new Map<string, OssKey>();

  function answer(request: IncomingMessage, path: string, params: Record<string, string>): [number, Record<string, unknown>] {
    if (path !== '/') return error(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    const denied = signatureProblem(request.method ?? 'GET', params, keys);
    if (denied !== undefined) return denied;
    if (params.Version !== '2019-06-01') return error(400, 'InvalidVersion', `Specified parameter Version is not valid.`);
    if (params.Action !== 'GetSecretParameter') return error(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method.`);
    if (params.RegionId !== undefined && params.RegionId !== region) return error(400, 'InvalidRegionId', `The specified region ${params.RegionId} is not served here.`);
    const name = params.Name ?? '';
    const stored = parameters.get(name);
    if (stored === undefined) return error(404, 'EntityNotExists.SecretParameter', `The SecretParameter (${name}) does not exist.`);
    return [200, {
      Parameter: {
        Name: name,
        Type: 'Secret',
        ParameterVersion: stored.version,
        UpdatedDate: stored.updated,
        KeyId: 'oos-default-key',
        // The value comes back only when asked to decrypt it.
        Value: params.WithDecryption === 'true' ? stored.value : '',
      },
    }];
  }

  const fake = {
    requests,
    keys,
    put(name: string, value: string) {
      parameters.set(name, { value, version: (parameters.get(name)?.version ?? 0) + 1, updated: new Date().toISOString() });
    },
  };
  return Object.assign(fake, await serveOnLoopback((request, body, response) => {
    const url = new URL(request.url ?? '/', 'http://oos');
    const form = request.method === 'POST' ? new URLSearchParams(body.toString('utf8')) : url.searchParams;
    const params = Object.fromEntries(form);
    const [status, document] = answer(request, url.pathname, params);
    requests.push({ action: params.Action ?? '', params, status });
    response.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    response.end(JSON.stringify({ RequestId: randomUUID().toUpperCase(), ...document }));
  }));
}

/** RFC 3986 percent-encoding, as the RPC signature defines it. */
function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Checks the signature (SignatureVersion 1.0, HMAC-SHA1) as the RPC gateway does. */
function signatureProblem(method: string, params: Record<string, string>, keys: ReadonlyMap<string, OssKey>): [number, Record<string, unknown>] | undefined {
  const { Signature: signature, ...signed } = params;
  const key = keys.get(params.AccessKeyId ?? '');
  if (key === undefined) return error(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  if (key.token !== undefined && params.SecurityToken !== key.token) return error(400, 'InvalidSecurityToken.Mismatch', 'Specified SecurityToken mismatch with the AccessKey.');
  if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp ?? '')) {
    return error(400, 'MissingParameter', 'The input parameter "Signature" that is mandatory for processing this request is not supplied.');
  }
  const canonical = Object.keys(signed).sort().map((name) => `${percentEncode(name)}=${percentEncode(signed[name]!)}`).join('&');
  const expected = createHmac('sha1', `${key.secret}&`).update(`${method}&${percentEncode('/')}&${percentEncode(canonical)}`).digest('base64');
  if (signature !== expected) return error(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
  return undefined;
}

function error(status: number, code: string, message: string): [number, Record<string, unknown>] {
  return [status, { HostId: 'oos.cn-hangzhou.aliyuncs.com', Code: code, Message: message, Recommend: 'https://api.aliyun.com/troubleshoot' }];
}

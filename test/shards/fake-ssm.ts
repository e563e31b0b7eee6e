/**
 * A local stand-in for AWS Systems Manager Parameter Store, speaking its JSON 1.1 protocol
 * (POST /, X-Amz-Target: AmazonSSM.<Operation>, application/x-amz-json-1.1 bodies), so tests run
 * the real @aws-sdk/client-ssm against it. Only what the shard map sources and `prome-route shards
 * push` use: GetParameter and GetParametersByPath, with pagination, versions, and the service's
 * error documents; PutParameter (types, Overwrite, the standard tier's 4096 characters) and
 * DeleteParameter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, vi } from 'vitest';
import { serveOnLoopback } from '../support/loopback.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

interface StoredParameter {
  readonly value: string;
  readonly type: ParameterType;
  readonly version: number;
  readonly modified: number;
  readonly keyId?: string;
}

export interface SsmRequest {
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

export interface FakeSsm {
  readonly url: string;
  readonly requests: SsmRequest[];
  /** Creates the parameter or adds a version, as `aws ssm put-parameter --overwrite` does. */
  put(name: string, value: string, type?: ParameterType): void;
  /** A parameter as stored (SecureStrings in clear), or undefined. */
  get(name: string): { readonly value: string; readonly type: ParameterType; readonly version: number; readonly keyId?: string } | undefined;
  /** The names of the parameters stored, sorted. */
  names(): string[];
  /** Most results one GetParametersByPath page holds (the service's default MaxResults is 10). */
  pageSize: number;
  /** While set, every request is refused with ThrottlingException. */
  throttling: boolean;
  /** While set, every connection is dropped without an answer (a network path that is down). */
  unreachable: boolean;
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';

/** `region`: the one the SDK signs for (AWS_REGION), as the service checks it. */
export async function startFakeSsm(region = 'us-east-1'): Promise<FakeSsm> {
  const parameters = new Map<string, StoredParameter>();
  const requests: SsmRequest[] = [];
  const fake: Omit<FakeSsm, 'url' | 'close'> = {
    requests,
    pageSize: 10,
    throttling: false,
    unreachable: false,
    put(name, value, type = 'String') {
      const version = (parameters.get(name)?.version ?? 0) + 1;
      parameters.set(name, { value, type, version, modified: Date.now() / 1000 });
    },
    get(name) {
      const stored = parameters.get(name);
      if (stored === undefined) return undefined;
      const { value, type, version, keyId } = stored;
      return { value, type, version, ...(keyId === undefined ? {} : { keyId }) };
    },
    names: () => [...parameters.keys()].sort(),
  };

  function answer(request: IncomingMessage, raw: Buffer, response: ServerResponse): void {
    if (fake.unreachable) {
      request.socket.destroy();
      return;
    }
    const target = String(request.headers['x-amz-target'] ?? '');
    const body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    const [status, document] = handle(request, target, body);
    requests.push({ target, body, status });
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${requests.length}` });
    response.end(JSON.stringify(document));
  }

  function handle(request: IncomingMessage, target: string, body: Record<string, unknown>): [number, unknown] {
    const authorization = String(request.headers.authorization ?? '');
    if (request.method !== 'POST' || request.url !== '/') return error(404, 'UnknownOperationException');
    if (!new RegExp(`^AWS4-HMAC-SHA256 Credential=test/\\d{8}/${region}/ssm/aws4_request,`).test(authorization)) {
      return error(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (request.headers['content-type'] !== 'application/x-amz-json-1.1') return error(400, 'SerializationException');
    if (fake.throttling) return error(400, 'ThrottlingException', 'Rate exceeded');
    switch (target) {
      case 'AmazonSSM.GetParameter': {
        const name = String(body.Name);
        const stored = parameters.get(name);
        // The service names no parameter in this error: its message is empty.
        if (stored === undefined) return error(400, 'ParameterNotFound');
        return [200, { Parameter: parameter(name, stored, region) }];
      }
      case 'AmazonSSM.GetParametersByPath': {
        const path = String(body.Path);
        if (body.Recursive !== false) return error(400, 'ValidationException', 'the sources ask for one level');
        const prefix = path.endsWith('/') ? path : `${path}/`;
        const names = [...parameters.keys()]
          .filter((name) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/'))
          .sort();
        const start = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString()) : 0;
        const end = start + Math.min(fake.pageSize, typeof body.MaxResults === 'number' ? body.MaxResults : 10);
        const page = names.slice(start, end).map((name) => parameter(name, parameters.get(name)!, region));
        const next = end < names.length ? { NextToken: Buffer.from(String(end)).toString('base64') } : {};
        return [200, { Parameters: page, ...next }];
      }
      case 'AmazonSSM.PutParameter':
        return putParameter(body);
      case 'AmazonSSM.DeleteParameter': {
        const name = String(body.Name);
        if (!parameters.delete(name)) return error(400, 'ParameterNotFound');
        return [200, {}];
      }
      default:
        return error(400, 'UnknownOperationException');
    }
  }

  /** As the service checks them, in the service's words. */
  function putParameter(body: Record<string, unknown>): [number, unknown] {
    const { Name: name, Value: value, Type: type, Overwrite: overwrite, KeyId: keyId } = body;
    if (typeof name !== 'string' || !/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(name)) {
      return error(400, 'ValidationException', 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore).');
    }
    if (typeof value !== 'string' || value === '') return error(400, 'ValidationException', '1 validation error detected: Value at \'value\' failed to satisfy constraint: Member must have length greater than or equal to 1');
    if (value.length > 4096) {
      return error(400, 'ValidationException', 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html');
    }
    const stored = parameters.get(name);
    if (stored !== undefined && overwrite !== true) {
      return error(400, 'ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    if (type !== undefined && type !== 'String' && type !== 'StringList' && type !== 'SecureString') return error(400, 'ValidationException', `Invalid type ${String(type)}`);
    const newType = (type as ParameterType | undefined) ?? stored?.type;
    if (newType === undefined) return error(400, 'ValidationException', 'A parameter type is required when you create a parameter.');
    if (keyId !== undefined && newType !== 'SecureString') return error(400, 'ValidationException', 'KeyId is required for SecureString type parameter only.');
    const version = (stored?.version ?? 0) + 1;
    parameters.set(name, {
      value,
      type: newType,
      version,
      modified: Date.now() / 1000,
      ...(newType === 'SecureString' ? { keyId: typeof keyId === 'string' ? keyId : 'alias/aws/ssm' } : {}),
    });
    return [200, { Version: version, Tier: 'Standard' }];
  }

  return Object.assign(fake, await serveOnLoopback(answer));
}

function parameter(name: string, { value, type, version, modified }: StoredParameter, region: string) {
  return {
    Name: name,
    Type: type,
    Value: value,
    Version: version,
    LastModifiedDate: modified,
    ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name}`,
    DataType: 'text',
  };
}

function error(status: number, type: string, message?: string): [number, unknown] {
  return [status, { __type: type, ...(message === undefined ? {} : { message }) }];
}

/**
 * Starts the fake for a test file and points the SDK at it the way a Lambda finds SSM (endpoint,
 * region and credentials from the environment); the returned object holds the fake once started.
 */
export function useFakeSsm(): { fake: FakeSsm } {
  const holder = {} as { fake: FakeSsm };
  beforeAll(async () => {
    holder.fake = await startFakeSsm();
    vi.stubEnv('AWS_ENDPOINT_URL_SSM', holder.fake.url);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_SESSION_TOKEN', 'test');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await holder.fake.close();
  });
  return holder;
}

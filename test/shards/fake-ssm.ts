/**
 * A local stand-in for AWS Systems Manager Parameter Store, speaking its JSON 1.1 protocol
 * (POST /, X-Amz-Target: AmazonSSM.<Operation>, application/x-amz-json-1.1 bodies), so tests run
 * the real @aws-sdk/client-ssm against it. Only what the shard map sources use: GetParameter and
 * GetParametersByPath, with pagination, versions, and the service's error documents.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredParameter {
  readonly value: string;
  readonly version: number;
  readonly modified: number;
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
  put(name: string, value: string): void;
  /** Most results one GetParametersByPath page holds (the service's default MaxResults is 10). */
  pageSize: number;
  /** While set, every request is refused with ThrottlingException. */
  throttling: boolean;
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';

export async function startFakeSsm(): Promise<FakeSsm> {
  const parameters = new Map<string, StoredParameter>();
  const requests: SsmRequest[] = [];
  const fake: Omit<FakeSsm, 'url' | 'close'> = {
    requests,
    pageSize: 10,
    throttling: false,
    put(name, value) {
      const version = (parameters.get(name)?.version ?? 0) + 1;
      parameters.set(name, { value, version, modified: Date.now() / 1000 });
    },
  };

  const server = createServer((request, response) => {
    void answer(request, response);
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const [status, document] = handle(request, target, body);
    requests.push({ target, body, status });
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${requests.length}` });
    response.end(JSON.stringify(document));
  }

  function handle(request: IncomingMessage, target: string, body: Record<string, unknown>): [number, unknown] {
    const authorization = String(request.headers.authorization ?? '');
    if (request.method !== 'POST' || request.url !== '/') return error(404, 'UnknownOperationException');
    if (!/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/ssm\/aws4_request,/.test(authorization)) {
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
        return [200, { Parameter: parameter(name, stored) }];
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
        const page = names.slice(start, end).map((name) => parameter(name, parameters.get(name)!));
        const next = end < names.length ? { NextToken: Buffer.from(String(end)).toString('base64') } : {};
        return [200, { Parameters: page, ...next }];
      }
      default:
        return error(400, 'UnknownOperationException');
    }
  }

  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function parameter(name: string, { value, version, modified }: StoredParameter) {
  return {
    Name: name,
    Type: 'String',
    Value: value,
    Version: version,
    LastModifiedDate: modified,
    ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${name}`,
    DataType: 'text',
  };
}

function error(status: number, type: string, message?: string): [number, unknown] {
  return [status, { __type: type, ...(message === undefined ? {} : { message }) }];
}

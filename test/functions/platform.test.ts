// The pieces both cloud handlers share: content negotiation, the buffered result with its size cap,
// and the deadline and limit settings.
import { createAdaptorServer } from '@hono/node-server';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/errors.ts';
import { DEFAULT_TIMEOUT_MS } from '../../lib/api/router.ts';
import { acceptsGzip } from '../../lib/api/encoding.ts';
import { fastGzip, gzipResponse, GZIP_BATCH_BYTES } from '../../lib/platform/encoding.ts';
import { toWebRequest } from '../../lib/platform/request.ts';
import { toResult } from '../../lib/platform/result.ts';
import { AWS_RESPONSE_LIMIT_BYTES, DEADLINE_MARGIN_MS, responseLimitBytes, routerTimeoutMs } from '../../lib/platform/settings.ts';

describe('acceptsGzip', () => {
  it.each([
    [null, false],
    ['', false],
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, br', false],
    ['GZip;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['*', true],
    ['br, *;q=0.1', true],
    ['*, gzip;q=0', false],
    ['identity', false],
  ])('%j: %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

const json = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });

describe('toResult', () => {
  it('passes JSON through as text, without the headers the platforms set or refuse', async () => {
    const result = await toResult(json('{"status":"success","data":[]}', 200), { acceptEncoding: null, limitBytes: 1000 });
    expect(result).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"success","data":[]}', isBase64Encoded: false });
  });

  it('gzips when the client accepts it, as base64', async () => {
    const body = JSON.stringify({ status: 'success', data: Array.from({ length: 500 }, (_, i) => ({ __name__: 'up', instance: `host-${i}` })) });
    const result = await toResult(json(body), { acceptEncoding: 'gzip, deflate, br', limitBytes: 1_000_000 });
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers).toEqual({ 'content-type': 'application/json', 'content-encoding': 'gzip', vary: 'accept-encoding' });
    expect(gunzipSync(Buffer.from(result.body, 'base64')).toString()).toBe(body);
    expect(result.body.length).toBeLessThan(body.length / 5);
  });

  it('passes on an answer the core gzipped already (assembled from the results cache) as it is, in base64', async () => {
    const body = '{"status":"success","data":{"resultType":"matrix","result":[]}}';
    const gzipped = gzipSync(body);
    const response = new Response(gzipped, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', vary: 'accept-encoding' } });
    const result = await toResult(response, { acceptEncoding: 'gzip', limitBytes: 1_000_000 });
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers).toEqual({ 'content-type': 'application/json', 'content-encoding': 'gzip', vary: 'accept-encoding' });
    expect(Buffer.from(result.body, 'base64').equals(gzipped)).toBe(true);
  });

  it('keeps the status of error answers', async () => {
    const result = await toResult(json('{"status":"error","errorType":"bad_data","error":"x"}', 400), { acceptEncoding: null, limitBytes: 1000 });
    expect(result.statusCode).toBe(400);
  });

  it('sends other content types as base64', async () => {
    const response = new Response(new Uint8Array([0, 1, 2, 255]), { headers: { 'content-type': 'application/octet-stream' } });
    const result = await toResult(response, { acceptEncoding: null, limitBytes: 1000 });
    expect(result).toMatchObject({ body: 'AAEC/w==', isBase64Encoded: true });
  });

  it('counts the JSON escapes the platform adds when serialising the result', async () => {
    // 900 bytes of quotes become 1,802 characters as a JSON string: over a 1,000-byte limit.
    const result = await toResult(json(`"${'"'.repeat(898)}"`), { acceptEncoding: null, limitBytes: 1000 });
    expect(result.statusCode).toBe(422);
    expect(JSON.parse(result.body)).toMatchObject({ status: 'error', errorType: 'execution' });
  });

  it('counts base64 growth against the limit', async () => {
    const bytes = new Uint8Array(800).map((_, i) => (i * 7919) % 256);
    const response = () => new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } });
    expect((await toResult(response(), { acceptEncoding: null, limitBytes: 1068 })).statusCode).toBe(200);
    expect((await toResult(response(), { acceptEncoding: null, limitBytes: 1064 })).statusCode).toBe(422);
  });

  it('stops reading an answer once it cannot fit, and cancels it', async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
      },
      cancel() {
        cancelled = true;
      },
    });
    const result = await toResult(new Response(endless, { headers: { 'content-type': 'application/json' } }), { acceptEncoding: null, limitBytes: 100_000 });
    expect(result.statusCode).toBe(422);
    expect(pulled).toBeLessThan(200);
    expect(cancelled).toBe(true);
  });

  it('applies the limit to the gzipped answer', async () => {
    const endless = () => new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(crypto.getRandomValues(new Uint8Array(1024))),
    });
    const result = await toResult(new Response(endless(), { headers: { 'content-type': 'application/json' } }), { acceptEncoding: 'gzip', limitBytes: 100_000 });
    expect(result.statusCode).toBe(422);
    expect(result.headers['content-encoding']).toBeUndefined();
  });
});

/** A JSON answer streamed in `pieces` small chunks, as the core streams a collector's answer with the label put in. */
const PIECE = '{"metric":{"__name__":"up","cluster":"a"},"value":[1,"1"]},';

/** `pieces` pieces of an answer; then, with `failAfter`, a stall of `stallMs` and that failure. */
function streamed(pieces: number, failAfter?: ApiError, stallMs = 1_000): Response {
  const piece = new TextEncoder().encode(PIECE);
  let sent = 0;
  return new Response(new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === pieces) {
        if (failAfter === undefined) return controller.close();
        // A collector that stalls, until the exchange's deadline ends it.
        await new Promise((resolve) => setTimeout(resolve, stallMs));
        return controller.error(failAfter);
      }
      sent++;
      controller.enqueue(piece);
    },
  }), { headers: { 'content-type': 'application/json' } });
}

describe('toResult, streaming', () => {
  it('gzips an answer of many small pieces, streamed in batches, to what the pieces make', async () => {
    const result = await toResult(streamed(20_000), { acceptEncoding: 'gzip', limitBytes: 6_000_000 });
    expect(gunzipSync(Buffer.from(result.body, 'base64')).toString()).toBe(PIECE.repeat(20_000));
  });

  it('answers a failure inside the answer (a collector that did not finish) with its own Prometheus error, not a 500', async () => {
    const timeout = new ApiError('timeout', 'shard "a": collector did not finish its answer in time');
    for (const acceptEncoding of ['gzip', null]) {
      const result = await toResult(streamed(5_000, timeout), { acceptEncoding, limitBytes: 6_000_000 });
      expect(result.statusCode).toBe(503);
      expect(JSON.parse(result.body)).toEqual({ status: 'error', errorType: 'timeout', error: timeout.message });
    }
  });

  it('blames the compression, not the collector, when compressing held the answer back longer than it took to arrive', async () => {
    // A compressor slowed down on purpose: each batch waits 50 ms before zlib gets it.
    const slowGzip = () => {
      const gzip = createGzip();
      const write = gzip._write.bind(gzip);
      gzip._write = (chunk, encoding, done) => setTimeout(() => write(chunk, encoding, done), 50);
      return gzip;
    };
    const timeout = new ApiError('timeout', 'shard "a": collector did not finish its answer in time');
    // The collector's part is quick (no stall): the time went to compressing.
    const result = await toResult(streamed(20_000, timeout, 0), { acceptEncoding: 'gzip', limitBytes: 6_000_000, gzip: slowGzip });
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error).toMatch(/^the function ran out of time compressing the answer: compression held it back for \d+ ms$/);
  });

  it('answers a Prometheus timeout when the answer is not ready by the deadline', async () => {
    const trickle = new Response(new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        controller.enqueue(new TextEncoder().encode('x'));
      },
    }), { headers: { 'content-type': 'application/json' } });
    const result = await toResult(trickle, { acceptEncoding: null, limitBytes: 6_000_000, deadline: Date.now() + 200 });
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ errorType: 'timeout', error: expect.stringMatching(/^the function ran out of time reading the answer/) });
  });

  it('compresses at the fastest level (the gzip header says so: XFL 4)', async () => {
    const gzip = fastGzip();
    const first = new Promise<Buffer>((resolve) => gzip.once('data', resolve));
    gzip.end('{"status":"success"}');
    expect((await first)[8]).toBe(4);
  });
});

describe('toWebRequest', () => {
  const build = (path: string, query = '') => toWebRequest({ method: 'GET', path, query, headers: new Headers(), requestId: 'r1' });

  it('takes the URL from the path and query only', () => {
    const url = new URL(build('/prod/api/v1/query', 'query=up&match%5B%5D=a').url);
    expect([url.pathname, url.search]).toEqual(['/prod/api/v1/query', '?query=up&match%5B%5D=a']);
  });

  it('keeps a path that looks like a host a path', () => {
    expect(new URL(build('//evil.example/api/v1/query').url).pathname).toBe('//evil.example/api/v1/query');
    expect(new URL(build('api/v1/labels').url).pathname).toBe('/api/v1/labels');
  });

  it('names the platform request id unless the client sent one', () => {
    expect(build('/api/v1/labels').headers.get('x-request-id')).toBe('r1');
    const own = toWebRequest({ method: 'GET', path: '/', query: '', headers: new Headers({ 'x-request-id': 'mine' }), requestId: 'r1' });
    expect(own.headers.get('x-request-id')).toBe('mine');
  });
});

describe('settings', () => {
  it('gives the core the configured deadline, within the function time less the margin', () => {
    expect(routerTimeoutMs({}, 900_000)).toBe(DEFAULT_TIMEOUT_MS);
    expect(routerTimeoutMs({ ROUTER_TIMEOUT_MS: '12000' }, 900_000)).toBe(12_000);
    expect(routerTimeoutMs({ ROUTER_TIMEOUT_MS: '' }, 900_000)).toBe(DEFAULT_TIMEOUT_MS);
    expect(routerTimeoutMs({}, 10_000)).toBe(10_000 - DEADLINE_MARGIN_MS);
    expect(routerTimeoutMs({ ROUTER_TIMEOUT_MS: '60000' }, 30_000)).toBe(30_000 - DEADLINE_MARGIN_MS);
  });

  it('takes RESPONSE_LIMIT_BYTES over the platform limit', () => {
    expect(responseLimitBytes({}, AWS_RESPONSE_LIMIT_BYTES)).toBe(AWS_RESPONSE_LIMIT_BYTES);
    expect(responseLimitBytes({ RESPONSE_LIMIT_BYTES: '5000' }, AWS_RESPONSE_LIMIT_BYTES)).toBe(5000);
  });

  it.each(['25s', '-1', '0', '1.5', 'abc'])('refuses %j as a number of milliseconds or bytes', (value) => {
    expect(() => routerTimeoutMs({ ROUTER_TIMEOUT_MS: value }, 30_000)).toThrow(`ROUTER_TIMEOUT_MS must be a positive integer, got "${value}"`);
    expect(() => responseLimitBytes({ RESPONSE_LIMIT_BYTES: value }, 1)).toThrow('RESPONSE_LIMIT_BYTES must be a positive integer');
  });
});

describe('gzipResponse (prome-route serve)', () => {
  const gunzipped = async (response: Response) => gunzipSync(Buffer.from(await response.arrayBuffer())).toString('utf8');

  it('compresses a small answer at once, with the headers Prometheus sends, status kept', async () => {
    const body = '{"status":"error","errorType":"bad_data","error":"x"}';
    const response = gzipResponse(json(body, 400), 'gzip, deflate, br');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('vary')).toBe('accept-encoding');
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await gunzipped(response)).toBe(body);
  });

  it('compresses an answer of many small pieces, longer than a batch, to what the pieces make', async () => {
    const pieces = 20_000;
    expect(PIECE.length * pieces).toBeGreaterThan(4 * GZIP_BATCH_BYTES);
    expect(await gunzipped(gzipResponse(streamed(pieces), 'gzip'))).toBe(PIECE.repeat(pieces));
  });

  it('passes on an answer that fails midway as a failed stream', async () => {
    const failed = new ApiError('unavailable', 'shard a: the collector stopped answering');
    const response = gzipResponse(streamed(20_000, failed, 0), 'gzip');
    await expect(response.arrayBuffer()).rejects.toThrow(/stopped answering/);
  });

  it('stops compressing, without an error escaping, when a client disconnects midway (through @hono/node-server, as serve sends it)', async () => {
    // Random values, so that the compressed answer is long enough to be cut while zlib still works on it.
    const answer = () => {
      let sent = 0;
      return new Response(new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ === 100_000) controller.close();
          else controller.enqueue(new TextEncoder().encode(`{"value":[1,"${Math.random()}"]},`));
        },
      }), { headers: { 'content-type': 'application/json' } });
    };
    const escaped: unknown[] = [];
    const record = (err: unknown) => escaped.push(err);
    process.on('uncaughtException', record);
    const server = createAdaptorServer({ fetch: () => gzipResponse(answer(), 'gzip') }) as http.Server;
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      for (let attempt = 0; attempt < 10; attempt++) {
        await new Promise<void>((resolve) => {
          const request = http.get({ host: '127.0.0.1', port, headers: { 'accept-encoding': 'gzip' } }, (response) => {
            let received = 0;
            response.on('data', (chunk: Buffer) => {
              received += chunk.length;
              if (received > 20_000) {
                request.destroy();
                resolve();
              }
            });
            response.on('end', resolve);
          });
          request.on('error', () => resolve());
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      process.off('uncaughtException', record);
      server.close();
    }
    expect(escaped).toEqual([]);
  });

  it('adds accept-encoding to a Vary the answer has', async () => {
    const response = new Response('{}', { headers: { 'content-type': 'application/json', vary: 'origin' } });
    expect(gzipResponse(response, 'gzip').headers.get('vary')).toBe('origin, accept-encoding');
  });

  it('leaves the answer as it is for a client that does not accept gzip, an empty body, or an encoded answer', async () => {
    for (const response of [json('{}'), new Response(null, { status: 204 }), new Response('x', { headers: { 'content-encoding': 'gzip' } })]) {
      expect(gzipResponse(response, response.status === 200 && !response.headers.has('content-encoding') ? 'identity' : 'gzip')).toBe(response);
    }
  });
});

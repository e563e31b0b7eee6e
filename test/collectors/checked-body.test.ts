// checkedBody on a real HTTP exchange: small answers whole and checked, large ones streamed with the
// shard label inserted, whatever the chunk boundaries.
import http, { type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/errors.ts';
import { CHECKED_PREFIX, checkedBody } from '../../lib/collectors/checked-body.ts';
import { send } from '../../lib/collectors/http.ts';
import { QueryAnswerEditor } from '../../lib/shard-label/edit.ts';
import { listenOnLoopback } from '../support/loopback.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const series = (i: number) => JSON.stringify({ metric: { __name__: 'up', instance: `i${i}` }, values: [[1, String(i)]] });
/** More than CHECKED_PREFIX of series, so the answer is streamed. */
const bulk = Array.from({ length: Math.ceil(CHECKED_PREFIX / 40) }, (_, i) => series(i)).join(',');

let server: Server;
let collector: { url: string; close(): Promise<void> };

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url === '/split-opening') {
      // The last series' label set opens at the very end of one write, and the next writes are a
      // few bytes each: the editor holds a key back until it knows it is not the shard label, and has
      // nothing to pass on yet.
      res.write(`{"status":"success","data":{"resultType":"matrix","result":[${bulk},{"metric":{"a`);
      for (const tiny of ['b', 'c"']) {
        await sleep(50);
        res.write(tiny);
      }
      await sleep(50);
      res.end(':"x"},"values":[]}]}}');
    } else if (req.url === '/spaced') {
      // Valid JSON with whitespace between tokens, as another encoder may write it.
      res.end(`{ "status" : "success" , "data" : { "resultType" : "matrix" , "result" : [ ${bulk.replaceAll('":', '" : ')} ] } }`);
    } else if (req.url === '/banana' || req.url === '/error') {
      const head = req.url === '/banana' ? '{"status":"success","data":{"resultType":"banana","result":[' : `{"status":"error","errorType":"x","error":"y","data":{"resultType":"matrix","result":[`;
      res.end(`${head}${bulk}]}}`);
    } else if (req.url === '/late-head') {
      // Valid, but its head comes after the streamed prefix: nothing says it is a success in time.
      res.end(`{"data":{"result":[${bulk}],"resultType":"matrix"},"status":"success"}`);
    } else if (req.url === '/stalls') {
      res.write(`{"status":"success","data":{"resultType":"matrix","result":[${bulk}`);
      // ...and never finishes: the exchange's deadline must end it.
    }
  });
  collector = await listenOnLoopback(server);
});
afterAll(async () => {
  server.closeAllConnections();
  await collector.close();
});

/** Reads a stream as @hono/node-server does: one read at a time. */
async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  return Buffer.concat(chunks).toString('utf8');
}

describe('checkedBody', () => {
  it('streams a large answer to its end when a read yields nothing to pass on yet', async () => {
    const answer = await send(collector.url, '/split-opening', { method: 'GET', headers: {}, timeoutMs: 5000 });
    const body = await checkedBody('a', answer, new QueryAnswerEditor('cluster', 'a'));
    expect(body).toBeInstanceOf(ReadableStream);
    const parsed = JSON.parse(await readAll(body as ReadableStream<Uint8Array>));
    const result = parsed.data.result as { metric: Record<string, string> }[];
    expect(result).toHaveLength(Math.ceil(CHECKED_PREFIX / 40) + 1);
    expect(result.every((s) => s.metric.cluster === 'a')).toBe(true);
    expect(result.at(-1)!.metric).toEqual({ cluster: 'a', abc: 'x' });
  });

  it('ends a streamed answer that stops coming with a timeout naming the shard', async () => {
    const answer = await send(collector.url, '/stalls', { method: 'GET', headers: {}, timeoutMs: 300 });
    const body = await checkedBody('a', answer, new QueryAnswerEditor(null, null));
    const failure = await readAll(body as ReadableStream<Uint8Array>).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ errorType: 'timeout', message: 'shard "a": collector did not finish its answer in time' });
  });

  it('labels every series of a large answer with whitespace between its tokens', async () => {
    const answer = await send(collector.url, '/spaced', { method: 'GET', headers: {}, timeoutMs: 5000 });
    const body = await checkedBody('a', answer, new QueryAnswerEditor('cluster', 'a'));
    expect(body).toBeInstanceOf(ReadableStream);
    const result = JSON.parse(await readAll(body as ReadableStream<Uint8Array>)).data.result as { metric: Record<string, string> }[];
    expect(result.length).toBe(Math.ceil(CHECKED_PREFIX / 40));
    expect(result.every((s) => s.metric.cluster === 'a')).toBe(true);
  });

  it.each([
    ['/banana', 'unknown resultType "banana"'],
    ['/error', 'status "error" in a 2xx answer'],
    ['/late-head', `no status, data.resultType and data.result in its first ${CHECKED_PREFIX} bytes`],
  ])('refuses a large 2xx answer whose head is no success (%s) before anything is passed on', async (path, problem) => {
    for (const editor of [new QueryAnswerEditor('cluster', 'a'), new QueryAnswerEditor(null, null)]) {
      const answer = await send(collector.url, path, { method: 'GET', headers: {}, timeoutMs: 5000 });
      const failure = await checkedBody('a', answer, editor).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ApiError);
      expect(failure).toMatchObject({ errorType: 'unavailable', status: 503, message: `shard "a": collector answered no valid answer: ${problem}` });
    }
  });
});

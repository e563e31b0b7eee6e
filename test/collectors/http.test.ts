import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, readUpTo, send } from '../../lib/collectors/http.ts';

let server: Server;
let seen: { url: string; authorization?: string; method: string }[] = [];
const BIG = Buffer.alloc(1 << 20, 'y');

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization, method: req.method ?? '' });
    if (req.url?.endsWith('/big')) return res.end(BIG);
    if (req.url?.endsWith('/broken')) {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"half":');
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const base = (prefix = '') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`;
const get = (b: string, path: string) => send(b, path, { method: 'GET', headers: {}, timeoutMs: 5000 });

describe('send', () => {
  it("joins the base URL's path and the API path", async () => {
    seen = [];
    const answer = await get(base('/prom'), '/api/v1/query?query=up');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json');
    expect((await readBody(answer.body)).toString()).toBe('{"ok":true}');
    expect(seen).toEqual([{ url: '/prom/api/v1/query?query=up', method: 'GET', authorization: undefined }]);
  });

  it('reaches an IPv6 literal', async () => {
    const v6 = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve, reject) => v6.once('error', reject).listen(0, '::1', resolve));
    try {
      const answer = await get(`http://[::1]:${(v6.address() as AddressInfo).port}`, '/api/v1/labels');
      expect((await readBody(answer.body)).toString()).toBe('{}');
    } finally {
      v6.close();
    }
  });
});

describe('readUpTo', () => {
  it('reads a whole body that ends before the limit', async () => {
    const { chunks, complete } = await readUpTo((await get(base(), '/small')).body, 1024);
    expect(complete).toBe(true);
    expect(Buffer.concat(chunks).toString()).toBe('{"ok":true}');
  });

  it('stops at the limit and leaves the rest to be read', async () => {
    const body = (await get(base(), '/big')).body;
    const head = await readUpTo(body, 1000);
    expect(head.complete).toBe(false);
    const headBytes = Buffer.concat(head.chunks);
    expect(headBytes.byteLength).toBeGreaterThanOrEqual(1000);
    const rest = await readBody(body);
    expect(headBytes.byteLength + rest.byteLength).toBe(BIG.byteLength);
  });

  it('fails when the body breaks off, and when it was destroyed before reading', async () => {
    await expect(readUpTo((await get(base(), '/broken')).body, 1 << 20)).rejects.toThrow(/aborted|closed/);
    const body: IncomingMessage = (await get(base(), '/small')).body;
    body.destroy(new Error('cancelled'));
    await expect(readUpTo(body, 1024)).rejects.toThrow('cancelled');
  });
});

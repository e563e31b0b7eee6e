// Test servers on a free loopback port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts `server` on 127.0.0.1 (a free port) and returns its base URL and a close that waits. */
export async function listenOnLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A server on loopback (as listenOnLoopback) that reads each request's body whole, then has `answer`
 * answer it: the fake cloud endpoints, whose requests are small documents.
 */
export function serveOnLoopback(answer: (request: IncomingMessage, body: Buffer, response: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  return listenOnLoopback(createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      answer(request, Buffer.concat(chunks), response);
    })();
  }));
}

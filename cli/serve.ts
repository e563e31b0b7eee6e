// `prome-route serve`: the core behind Node's HTTP server, for development and self-hosting.
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authFromEnv } from '../lib/api/auth.ts';
import { batchedJsonLogger } from '../lib/api/log.ts';
import { createRouter } from '../lib/api/router.ts';
import type { ShardMap } from '../lib/shards/schema.ts';

export interface ServeOptions {
  readonly map: ShardMap;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs?: number;
}

/** Starts listening; resolves with the bound address, rejects with a readable reason. */
export function serve(options: ServeOptions): Promise<{ server: Server; address: AddressInfo }> {
  const router = createRouter({ shardMap: async () => options.map, timeoutMs: options.timeoutMs, auth: authFromEnv(process.env), log: batchedJsonLogger() });
  const server = createAdaptorServer({ fetch: router }) as Server;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${options.host}:${options.port}`;
      if (err.code === 'EADDRINUSE') reject(new Error(`cannot listen on ${where}: address already in use`));
      else if (err.code === 'EACCES') reject(new Error(`cannot listen on ${where}: permission denied`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new Error(`cannot listen on ${where}: no such local address`));
      else reject(new Error(`cannot listen on ${where}: ${err.message}`));
    });
    server.listen(options.port, options.host, () => resolve({ server, address: server.address() as AddressInfo }));
  });
}

/** Parses `HOST:PORT`, `:PORT` (all interfaces, as in Go's listen addresses) or `[::1]:PORT`. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.1:9091`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
}

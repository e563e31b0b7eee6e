// Simulated collectors for bench/fanout.ts: one process listening on SHARDS loopback ports, one per
// shard. Shard i stands for the real collector UPSTREAM[i mod n]: the first time it is asked something
// it forwards the request there and records the answer (status, content type and coding, the bytes);
// from then on it answers that recorded answer, DELAY_MS after the request has arrived. The work per
// request is a lookup and a write of a ready buffer, so these servers take little of the CPU the
// router needs (the benchmark reads theirs from /proc as well).
//
//   node bench/sim-collectors.mjs PORT SHARDS DELAY_MS UPSTREAM...
//
// PORT is the control port:
//   GET /-/healthy            ready (every shard listening)
//   GET /ports                [port of shard 0, port of shard 1, ...]
//   GET /stats                {"recorded": answers forwarded and recorded so far, "replayed": answered from the record}
//   GET /requests?shard=I     the distinct requests shard I has been sent since the last reset:
//                             [{method, path, headers, body}]
//   POST /reset               forgets those (not the recorded answers)
import http from 'node:http';

const [controlPort, shardCount, delayMs, ...upstreams] = process.argv.slice(2);
const DELAY_MS = Number(delayMs);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
/** `upstream index \n request key` -> recorded answer. */
const answers = new Map();
/** Per shard: request key -> the request, as the benchmark replays it directly. */
const requests = [];
const stats = { recorded: 0, replayed: 0 };
const FORWARDED_HEADERS = ['content-type', 'accept-encoding'];

function forward(upstream, request) {
  const { hostname, port } = new URL(upstream);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: request.path, method: request.method, headers: request.headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: Object.fromEntries(['content-type', 'content-encoding'].filter((h) => res.headers[h] !== undefined).map((h) => [h, res.headers[h]])),
        body: Buffer.concat(chunks),
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/**
 * What identifies a request: method, path, query string and body without the `timeout` parameter,
 * which the router sets from the time left and so differs every time. (The router writes the other
 * parameters in the same order every time; a regex is cheaper here than parsing them.)
 */
const keyOf = (method, url, body) => `${method} ${url}\n${body}`.replace(/timeout=[^&\n]*/, '');

function send(res, answer) {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length }).end(answer.body);
}

function serveShard(shard) {
  const upstreamIndex = shard % upstreams.length;
  requests[shard] = new Map();
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const arrived = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const key = keyOf(req.method, req.url, body);
      if (!requests[shard].has(key)) {
        const headers = Object.fromEntries(FORWARDED_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]]));
        requests[shard].set(key, { method: req.method, path: req.url, headers, body });
      }
      const recorded = answers.get(`${upstreamIndex}\n${key}`);
      if (recorded !== undefined) {
        stats.replayed++;
        setTimeout(send, DELAY_MS, res, recorded);
        return;
      }
      forward(upstreams[upstreamIndex], requests[shard].get(key)).then((answer) => {
        stats.recorded++;
        answers.set(`${upstreamIndex}\n${key}`, answer);
        setTimeout(send, Math.max(0, arrived + DELAY_MS - Date.now()), res, answer);
      }, (err) => res.writeHead(502).end(String(err)));
    });
  });
}

const ports = await Promise.all(Array.from({ length: Number(shardCount) }, (_, shard) => new Promise((resolve, reject) => {
  const server = serveShard(shard);
  server.keepAliveTimeout = 60_000;
  server.on('error', reject);
  server.listen(0, '127.0.0.1', () => resolve(server.address().port));
})));

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://control');
  const json = (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (url.pathname === '/-/healthy') return json({ ok: true });
  if (url.pathname === '/ports') return json(ports);
  if (url.pathname === '/stats') return json(stats);
  if (url.pathname === '/requests') return json([...(requests[Number(url.searchParams.get('shard'))]?.values() ?? [])]);
  if (url.pathname === '/reset' && req.method === 'POST') {
    for (const seen of requests) seen.clear();
    return json({ ok: true });
  }
  res.writeHead(404).end();
}).listen(Number(controlPort), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0)); // stopped by the benchmark: not an error

// The floor for any Node server answering a load: the first time a request (method, path, body) is
// seen it is forwarded to UPSTREAM and its answer kept; every later time the kept answer is sent
// straight back. No parsing, no checks, no logs. bench/refresh.ts measures a replayed refresh beside
// the router's cached one: what a router that did nothing but send the right bytes would cost.
//
//   node bench/replay-floor.mjs PORT UPSTREAM_URL
import http from 'node:http';

const [port, upstream] = process.argv.slice(2);
const { hostname, port: upstreamPort } = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** `${method} ${path} ${accept-encoding}\n${body}` → the answer's status, content type and coding, and bytes. */
const answers = new Map();

const send = (res, { status, type, coding, body }) => {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, ...(coding === undefined ? {} : { 'content-encoding': coding }) });
  res.end(body);
};

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const accepted = req.headers['accept-encoding'];
    const key = `${req.method} ${req.url} ${accepted ?? ''}\n${body.toString('latin1')}`;
    const kept = answers.get(key);
    if (kept !== undefined) return send(res, kept);
    const headers = {
      ...(req.headers['content-type'] === undefined ? {} : { 'content-type': req.headers['content-type'] }),
      ...(accepted === undefined ? {} : { 'accept-encoding': accepted }),
    };
    const forwarded = http.request({ hostname, port: upstreamPort, path: req.url, method: req.method, headers, agent }, (answer) => {
      const parts = [];
      answer.on('data', (chunk) => parts.push(chunk));
      answer.on('end', () => {
        const recorded = { status: answer.statusCode, type: answer.headers['content-type'], coding: answer.headers['content-encoding'], body: Buffer.concat(parts) };
        answers.set(key, recorded);
        send(res, recorded);
      });
    });
    forwarded.on('error', (err) => res.writeHead(502).end(String(err)));
    forwarded.end(body);
  });
}).listen(Number(port), '127.0.0.1');

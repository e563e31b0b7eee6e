// The floor for any proxy written for Node: forward the request's path and query unchanged to one
// upstream over keep-alive connections, buffer the answer, send it back. No parsing, no checks, no
// logs. bench/overhead.ts runs it beside nginx and the router, to show how much of the router's cost
// is Node's HTTP stack and how much is the router's own work.
//
//   node bench/node-floor.mjs PORT UPSTREAM_URL
import http from 'node:http';

const [port, upstream] = process.argv.slice(2);
const { hostname, port: upstreamPort } = new URL(upstream);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

http.createServer((req, res) => {
  const forwarded = http.request({ hostname, port: upstreamPort, path: req.url, method: 'GET', agent }, (answer) => {
    const chunks = [];
    answer.on('data', (chunk) => chunks.push(chunk));
    answer.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'], 'content-length': body.length });
      res.end(body);
    });
  });
  forwarded.on('error', (err) => {
    res.writeHead(502).end(String(err));
  });
  forwarded.end();
}).listen(Number(port), '127.0.0.1');

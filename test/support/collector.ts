// A collector stand-in on loopback for tests about where requests go: it records every request and
// answers like a small Prometheus whose data is one series per metric name (the stand-in's name in
// labels and values, so merged answers show where each part came from), or, while down, with 503.
import { createServer } from 'node:http';
import { listenOnLoopback } from './loopback.ts';

export interface SeenRequest {
  readonly path: string;
  /** Query string and form body together. */
  readonly params: URLSearchParams;
}

export interface CollectorStandIn {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Answers 503 (`unavailable`) while false. */
  healthy: boolean;
  close(): Promise<void>;
}

function answer(name: string, path: string): unknown {
  if (path === '/api/v1/query') return { resultType: 'vector', result: [] };
  if (path === '/api/v1/query_range') return { resultType: 'matrix', result: [] };
  if (path === '/api/v1/labels') return ['__name__', 'job'];
  if (path.startsWith('/api/v1/label/')) return [`${name}-value`];
  if (path === '/api/v1/series') return [{ __name__: 'up', job: name }];
  if (path === '/api/v1/metadata') return { [`${name}_metric`]: [{ type: 'gauge', help: name, unit: '' }] };
  if (path === '/api/v1/rules') return { groups: [{ name, rules: [] }] };
  if (path === '/api/v1/alerts') return { alerts: [{ labels: { alertname: name } }] };
  if (path === '/api/v1/status/buildinfo') return { version: `collector ${name}` };
  return [];
}

export async function startCollectorStandIn(name: string): Promise<CollectorStandIn> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://collector');
      const params = new URLSearchParams(url.search);
      for (const [key, value] of new URLSearchParams(body)) params.append(key, value);
      seen.push({ path: url.pathname, params });
      const [status, envelope] = standIn.healthy
        ? [200, { status: 'success', data: answer(name, url.pathname) }]
        : [503, { status: 'error', errorType: 'unavailable', error: `collector ${name} is down` }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(envelope));
    });
  });
  const { url, close } = await listenOnLoopback(server);
  const standIn: CollectorStandIn = { url, seen, healthy: true, close };
  return standIn;
}

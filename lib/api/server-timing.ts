// The Server-Timing header (W3C Server Timing; RFC 8941-style `name;dur=12.3`) for the browser's and
// Grafana's request inspectors: the router's own time and each shard's, in milliseconds.
//
//   router;dur=<ms>        from the request's arrival to the response's headers, waits included
//   shard-<name>;dur=<ms>  the longest wait for the headers of one of that shard's answers (requests
//                          to a shard run in parallel); a streamed answer's body arrives after the
//                          header has gone, so its transfer is not in it
import type { RequestTrace } from './trace.ts';

/** HTTP's token characters (RFC 9110), which a metric name must consist of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function serverTiming(routerMs: number, trace: RequestTrace): string {
  const metrics = [`router;dur=${duration(routerMs)}`];
  for (const [shard, ms] of [...trace.waitedMs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    metrics.push(`${metricName(shard)};dur=${duration(ms)}`);
  }
  return metrics.join(', ');
}

/**
 * `shard-<name>`; a name with characters a token cannot hold is percent-encoded, `%` included (it is a
 * token character, but an encoded name must not read as another shard's).
 */
function metricName(shard: string): string {
  const name = `shard-${shard}`;
  if (TOKEN.test(name) && !shard.includes('%')) return name;
  return `shard-${[...Buffer.from(shard, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    return b < 0x80 && c !== '%' && TOKEN.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('')}`;
}

function duration(ms: number): string {
  return (Math.round(ms * 10) / 10).toString();
}

// Content negotiation for the one encoding the router applies: gzip, which Prometheus's own HTTP API
// applies whenever the client accepts it, and which Grafana's data source proxy (Go's HTTP client)
// always asks for. The core sends answers assembled from the results cache gzipped as they are stored
// (lib/cache/gzip.ts); the platforms compress the rest (lib/platform/encoding.ts).

/**
 * Whether an Accept-Encoding header allows gzip: named with a non-zero weight, or covered by `*`
 * (RFC 9110 §12.5.3). Grafana sends `gzip, deflate, br`.
 */
export function acceptsGzip(header: string | null): boolean {
  if (header === null) return false;
  let wildcard = false;
  for (const item of header.split(',')) {
    const [coding = '', ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') wildcard = accepted;
  }
  return wildcard;
}

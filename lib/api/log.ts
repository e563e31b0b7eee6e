// One structured JSON line per request. On AWS the same line carries CloudWatch embedded metric
// format (EMF) fields, so CloudWatch extracts latency, errors and bytes as metrics from the log.
import type { CacheUse } from '../cache/results.ts';
import type { RequestTrace } from './trace.ts';

export type Logger = (entry: Record<string, unknown>) => void;

/** One line per entry, written at once: for functions, whose process may freeze as soon as they answer. */
export const jsonLogger: Logger = (entry) => console.log(JSON.stringify(entry));

/**
 * For a long-running server: the lines of one turn of the event loop go out in one write, not one
 * system call per request (on a busy server that was a sixth of the CPU per request). Lines still
 * pending when the process exits are written then.
 */
export function batchedJsonLogger(write: (text: string) => void = (text) => process.stdout.write(text)): Logger {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    write(text);
  };
  process.on('exit', flush);
  return (entry) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(`${JSON.stringify(entry)}\n`);
  };
}

export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  readonly endpoint: string;
  /** The tenant whose token the request carried; null for the router-wide credential (or none). */
  readonly tenant: string | null;
  readonly status: number;
  readonly errorType?: string;
  readonly durationMs: number;
  readonly trace: RequestTrace;
  /** What the results cache did; outcome `bypass` (not used) leaves the line as it was. */
  readonly cache: CacheUse;
  readonly mapAgeMs: number | null;
}

export function requestEntry(record: RequestRecord, emf: boolean): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    level: record.status >= 500 ? 'error' : 'info',
    msg: 'request',
    requestId: record.requestId,
    method: record.method,
    endpoint: record.endpoint,
    // Only with tenants: the lines of a map without them stay as they were.
    ...(record.tenant === null ? {} : { tenant: record.tenant }),
    status: record.status,
    ...(record.errorType === undefined ? {} : { errorType: record.errorType }),
    durationMs: record.durationMs,
    // Shards in name order, not in the order they happened to answer: log lines compare line by line.
    shards: Object.fromEntries([...record.trace.shards].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    bytes: record.trace.bytes,
    ...(record.cache.outcome === 'bypass' && record.cache.errors === 0 ? {} : { cache: { ...record.cache } }),
    mapAgeMs: record.mapAgeMs,
  };
  if (!emf) return entry;
  return {
    ...entry,
    Latency: record.durationMs,
    Errors: record.status >= 500 ? 1 : 0,
    ShardsAsked: record.trace.shards.size,
    CollectorBytes: record.trace.bytes,
    CacheExtentsHit: record.cache.extentsHit,
    CacheExtentsMissed: record.cache.extentsMissed,
    CacheBytesRead: record.cache.bytesRead,
    CacheErrors: record.cache.errors,
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: 'prome-route',
        Dimensions: [['endpoint']],
        Metrics: [
          { Name: 'Latency', Unit: 'Milliseconds' },
          { Name: 'Errors', Unit: 'Count' },
          { Name: 'ShardsAsked', Unit: 'Count' },
          { Name: 'CollectorBytes', Unit: 'Bytes' },
          { Name: 'CacheExtentsHit', Unit: 'Count' },
          { Name: 'CacheExtentsMissed', Unit: 'Count' },
          { Name: 'CacheBytesRead', Unit: 'Bytes' },
          { Name: 'CacheErrors', Unit: 'Count' },
        ],
      }],
    },
  };
}

// The Server-Timing header's syntax, whatever the shard names (any UTF-8; a metric name is an HTTP token).
import { describe, expect, it } from 'vitest';
import { serverTiming } from '../../lib/api/server-timing.ts';
import { RequestTrace } from '../../lib/api/trace.ts';

describe('serverTiming', () => {
  it('names the router and each shard asked, in name order, the longest wait per shard', () => {
    const trace = new RequestTrace();
    trace.record('b', 12.34, true);
    trace.record('a', 3, true);
    trace.record('b', 20.06, false);
    expect(serverTiming(25.04, trace)).toBe('router;dur=25, shard-a;dur=3, shard-b;dur=20.1');
  });

  it('percent-encodes what a token cannot hold', () => {
    const trace = new RequestTrace();
    trace.record('eu west/1', 1, true);
    trace.record('100%', 1, true);
    trace.record('zürich', 1, true);
    const header = serverTiming(2, trace);
    expect(header).toBe('router;dur=2, shard-100%25;dur=1, shard-eu%20west%2F1;dur=1, shard-z%C3%BCrich;dur=1');
    for (const metric of header.split(', ')) expect(metric).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+;dur=\d+(\.\d)?$/);
  });
});

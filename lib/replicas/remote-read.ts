// Prometheus's remote read endpoint (/api/v1/read): a snappy-compressed protobuf ReadRequest of
// queries (a time range and label matchers each), answered with every matching series' raw samples.
// The router reads replicas this way where it must merge their data (shards in "merge" mode): query
// answers are computed per replica, and a rate over one replica's hole is not the rate over the union.
//
// Response type: SAMPLES (one snappy block of a ReadResponse). Prometheus 2.x also offers
// STREAMED_XOR_CHUNKS (framed chunks in its TSDB's XOR encoding), which saves Prometheus the
// decoding but needs a chunk decoder here; SAMPLES is what every Prometheus since 2.0 answers.
import snappy from 'snappyjs';
import { ApiError } from '../errors.ts';
import type { AnswerBytes } from '../collectors/answer-bytes.ts';
import { collectorError, readWhole, replicaName, timeoutError, transportError } from '../collectors/client.ts';
import { send, type CollectorAnswer } from '../collectors/http.ts';
import type { Matcher } from '../promql/matchers.ts';
import type { Shard } from '../shards/schema.ts';
import { externalLabels } from './external-labels.ts';
import { MATCHER_TYPES, ReadRequestCodec, ReadResponseCodec, RESPONSE_SAMPLES, type PromTimeSeries } from './prompb.ts';

/** One selection: series matching all `matchers`, samples with start <= t <= end (epoch ms). */
export interface ReadSelection {
  readonly matchers: readonly Matcher[];
  readonly start: number;
  readonly end: number;
}

/** What one replica's remote read cost, for the request's trace and the benchmarks. */
export interface ReadBytes {
  /** Bytes on the wire (snappy-compressed). */
  readonly compressed: number;
  readonly decompressed: number;
}

/**
 * Every selection's series from replica `replica` of `shard`, in the selections' order. Fails with an
 * ApiError naming the shard and the replica: unavailable or timeout where the replica could not answer,
 * bad_data where it refused the request, execution where the answer is larger than the request may read.
 */
export async function readReplica(
  shard: Shard, replica: number, selections: readonly ReadSelection[], deadline: number, budget: AnswerBytes,
): Promise<{ series: PromTimeSeries[][]; bytes: ReadBytes }> {
  const base = shard.urls[replica]!;
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timeoutError(shard);
  const request = ReadRequestCodec.encode({
    queries: selections.map(({ matchers, start, end }) => ({
      startTimestampMs: start,
      endTimestampMs: end,
      matchers: matchers.map((m) => ({ type: MATCHER_TYPES[m.op], name: m.name, value: m.value })),
    })),
    acceptedResponseTypes: [RESPONSE_SAMPLES],
  });
  let response: CollectorAnswer;
  const external = externalLabels(shard, replica, remaining);
  external.catch(() => {}); // awaited below; while the read itself fails, that failure is the one reported
  try {
    response = await send(base, '/api/v1/read', {
      method: 'POST',
      headers: {
        ...shard.headers,
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-read-version': '0.1.0',
        'accept-encoding': 'identity',
      },
      body: snappy.compress(request),
      timeoutMs: Math.min(remaining, shard.timeoutMs ?? remaining),
    });
  } catch (err) {
    throw transportError(shard, base, replica, err, remaining);
  }
  let added: ReadonlyMap<string, string>;
  try {
    added = await external;
  } catch (err) {
    response.body.destroy();
    throw err instanceof ApiError ? err : transportError(shard, base, replica, err, remaining);
  }
  // Prometheus answers remote read errors in plain text: 400 for a request it refuses, 500 otherwise.
  if (response.status < 200 || response.status >= 300) throw await collectorError(shard, response);
  const what = `shard ${JSON.stringify(shard.name)}: collector ${replicaName(base, replica)}`;
  if (!response.contentType.startsWith('application/x-protobuf')) {
    response.body.destroy();
    throw new ApiError('unavailable', `${what} answered remote read with ${response.contentType || 'no content type'}, not protobuf`);
  }
  const compressed = await readWhole(shard, response, budget);
  let decoded: ReturnType<typeof ReadResponseCodec.decode>;
  let decompressed: Uint8Array;
  try {
    // The decompressed size is counted too: snappy's header states it, and a small body may claim a lot.
    decompressed = snappy.uncompress(compressed, Math.max(0, budget.limit - compressed.byteLength));
    decoded = ReadResponseCodec.decode(decompressed);
  } catch (err) {
    if (err instanceof Error && err.message.includes('too big')) throw budget.exceeded(shard.name); // snappyjs's words
    throw new ApiError('unavailable', `${what} answered remote read with a body that is not a snappy-compressed ReadResponse (${(err as Error).message})`);
  }
  if (!budget.take(decompressed.byteLength)) throw budget.exceeded(shard.name);
  if (decoded.results.length !== selections.length) {
    throw new ApiError('unavailable', `${what} answered ${decoded.results.length} remote read results for ${selections.length} queries`);
  }
  if (added.size > 0) for (const r of decoded.results) for (const s of r.timeseries) s.labels = s.labels.filter((l) => added.get(l.name) !== l.value);
  return {
    series: decoded.results.map((r) => r.timeseries),
    bytes: { compressed: compressed.byteLength, decompressed: decompressed.byteLength },
  };
}

// Prometheus's remote read endpoint (/api/v1/read): a snappy-compressed protobuf ReadRequest of
// queries (a time range and label matchers each), answered with every matching series' raw samples.
// The router reads replicas this way where it must merge their data (shards in "merge" mode): query
// answers are computed per replica, and a rate over one replica's hole is not the rate over the union.
//
// Response types, asked for in this order of preference, the server answering the first it supports:
// STREAMED_XOR_CHUNKS (Prometheus 2.x; framed messages of chunks in its TSDB's XOR encoding,
// chunked-read.ts), which spares Prometheus decoding and re-encoding every sample and sends fewer
// bytes (bench/replicas.ts measures both); SAMPLES (one snappy block of a ReadResponse), which every Prometheus since 2.0 and
// other remote read servers answer. The Content-Type of the answer tells which came.
import { ApiError } from '../errors.ts';
import type { AnswerBytes } from '../collectors/answer-bytes.ts';
import { collectorError, readWhole, replicaName, timeoutError, transportError } from '../collectors/client.ts';
import { send, type CollectorAnswer } from '../collectors/http.ts';
import type { Matcher } from '../promql/matchers.ts';
import type { Shard } from '../shards/schema.ts';
import { readChunkedAnswer } from './chunked-read.ts';
import type { ReplicaSamples } from './dedup.ts';
import { externalLabels } from './external-labels.ts';
import { loadCodecs, type Codecs } from './load-codecs.ts';
import { RESPONSE_SAMPLES, RESPONSE_STREAMED_XOR_CHUNKS, type PromLabel, type PromTimeSeries, type ReadResponse } from './prompb.ts';

/** The response types the router accepts, preferred first (see above). */
export const ACCEPTED_RESPONSE_TYPES: readonly number[] = [RESPONSE_STREAMED_XOR_CHUNKS, RESPONSE_SAMPLES];
const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

/** One selection: series matching all `matchers`, samples with start <= t <= end (epoch ms). */
export interface ReadSelection {
  readonly matchers: readonly Matcher[];
  readonly start: number;
  readonly end: number;
}

/** One series of a replica's answer: its labels (external labels removed) and samples, time ascending. */
export interface ReplicaSeries extends ReplicaSamples {
  labels: PromLabel[];
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** What one replica's remote read cost, for the request's trace and the benchmarks. */
export interface ReadBytes {
  /** The response type the replica answered with. */
  readonly type: 'samples' | 'chunks';
  /** Bytes on the wire: snappy-compressed (samples), framed (chunks). */
  readonly wire: number;
  /** Protobuf bytes decoded (decompressed, or without the frames' headers). */
  readonly protobuf: number;
}

/**
 * Every selection's series from replica `replica` of `shard`, in the selections' order. Fails with an
 * ApiError naming the shard and the replica: unavailable or timeout where the replica could not answer,
 * bad_data where it refused the request, execution where the answer is larger than the request may read.
 */
export async function readReplica(
  shard: Shard, replica: number, selections: readonly ReadSelection[], deadline: number, budget: AnswerBytes,
  accepted = ACCEPTED_RESPONSE_TYPES,
): Promise<{ series: ReplicaSeries[][]; bytes: ReadBytes }> {
  const base = shard.urls[replica]!;
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timeoutError(shard);
  const codecs = await loadCodecs();
  const request = codecs.ReadRequestCodec.encode({
    queries: selections.map(({ matchers, start, end }) => ({
      startTimestampMs: start,
      endTimestampMs: end,
      matchers: matchers.map((m) => ({ type: codecs.MATCHER_TYPES[m.op], name: m.name, value: m.value })),
    })),
    acceptedResponseTypes: [...accepted],
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
      body: codecs.snappy.compress(request),
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
  let read: { series: ReplicaSeries[][]; bytes: ReadBytes };
  if (response.contentType === STREAMED_CONTENT_TYPE) {
    const { series, bytes } = await readChunkedAnswer(codecs, response.body, selections, budget, shard.name, what);
    read = { series, bytes: { type: 'chunks', ...bytes } };
  } else if (response.contentType.startsWith('application/x-protobuf')) {
    read = await readSamplesAnswer(codecs, shard, response, selections, budget, what);
  } else {
    response.body.destroy();
    throw new ApiError('unavailable', `${what} answered remote read with ${response.contentType || 'no content type'}, not protobuf`);
  }
  if (added.size > 0) for (const r of read.series) for (const s of r) s.labels = s.labels.filter((l) => added.get(l.name) !== l.value);
  return read;
}

/** A SAMPLES answer: one snappy-compressed ReadResponse, read whole. */
async function readSamplesAnswer(
  { snappy, ReadResponseCodec }: Codecs, shard: Shard, response: CollectorAnswer, selections: readonly ReadSelection[], budget: AnswerBytes, what: string,
): Promise<{ series: ReplicaSeries[][]; bytes: ReadBytes }> {
  const compressed = await readWhole(shard, response, budget);
  let decoded: ReadResponse;
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
  return {
    series: decoded.results.map((r) => r.timeseries.map(samplesOf)),
    bytes: { type: 'samples', wire: compressed.byteLength, protobuf: decompressed.byteLength },
  };
}

/**
 * A series' samples as typed arrays. Written one by one into a Float64Array: a JavaScript array of
 * numbers may canonicalise NaNs, and the staleness marker is a NaN told apart by its bits.
 */
function samplesOf(s: PromTimeSeries): ReplicaSeries {
  const timestamps = new Float64Array(s.samples.length);
  const values = new Float64Array(s.samples.length);
  for (let i = 0; i < s.samples.length; i++) {
    timestamps[i] = s.samples[i]!.timestamp;
    values[i] = s.samples[i]!.value;
  }
  return { labels: s.labels, timestamps, values };
}

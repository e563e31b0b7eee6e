// Prometheus's remote-storage protocol buffers (prompb: remote.proto and types.proto), the messages
// of remote read, over pbf's wire reader and writer (Mapbox's low-level protobuf library,
// 9 KB minified: protobufjs's minimal build and its `long` took 43 KB, which put the AWS bundle past
// its 1 MiB budget). Field numbers as in prompb; fields the router does not read (native histograms,
// exemplars, hints, chunks' time ranges) are skipped, as pbf skips every field a reader leaves alone.
import { PbfReader, PbfWriter } from 'pbf';

export interface PromLabel { name: string; value: string }
export interface PromSample { value: number; timestamp: number }
export interface PromTimeSeries { labels: PromLabel[]; samples: PromSample[] }
export type MatcherType = 0 | 1 | 2 | 3;
export interface PromLabelMatcher { type: MatcherType; name: string; value: string }
export interface PromQuery { startTimestampMs: number; endTimestampMs: number; matchers: PromLabelMatcher[] }
export interface ReadRequest { queries: PromQuery[]; acceptedResponseTypes: number[] }
export interface ReadResponse { results: { timeseries: PromTimeSeries[] }[] }
/** A chunk of a series' samples; `data` is a view into the message it was read from. */
export interface PromChunk { type: number; data: Uint8Array }
export interface ChunkedSeries { labels: PromLabel[]; chunks: PromChunk[] }
/** One frame of a streamed answer: (parts of) series of the query at `queryIndex`. */
export interface ChunkedReadResponse { series: ChunkedSeries[]; queryIndex: number }

export const MATCHER_TYPES = { '=': 0, '!=': 1, '=~': 2, '!~': 3 } as const satisfies Record<string, MatcherType>;
/** ReadRequest.ResponseType.SAMPLES. */
export const RESPONSE_SAMPLES = 0;
/** ReadRequest.ResponseType.STREAMED_XOR_CHUNKS. */
export const RESPONSE_STREAMED_XOR_CHUNKS = 1;
/** Chunk.Encoding.XOR; chunkenc's out-of-order flag (0x80) on it marks the same encoding (chunkenc.EncOOOXOR). */
export const CHUNK_XOR = 1;
export const CHUNK_OOO_XOR = 0x81;

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;

function readLabel(field: number, label: PromLabel, pbf: PbfReader): void {
  if (pbf.type !== LENGTH) return;
  if (field === 1) label.name = pbf.readString();
  else if (field === 2) label.value = pbf.readString();
}

function readSample(field: number, sample: PromSample, pbf: PbfReader): void {
  if (field === 1 && pbf.type === FIXED64) sample.value = pbf.readDouble();
  // int64 as a number: milliseconds since 1970 stay far below 2^53.
  else if (field === 2 && pbf.type === VARINT) sample.timestamp = pbf.readVarint(true);
}

function readTimeSeries(field: number, series: PromTimeSeries, pbf: PbfReader): void {
  if (pbf.type !== LENGTH) return;
  if (field === 1) series.labels.push(pbf.readMessage(readLabel, { name: '', value: '' }));
  else if (field === 2) series.samples.push(pbf.readMessage(readSample, { value: 0, timestamp: 0 }));
}

/** Field 1 of QueryResult and of WriteRequest: the repeated TimeSeries, the only field the router reads. */
function readSeriesList(field: number, list: PromTimeSeries[], pbf: PbfReader): void {
  if (field === 1 && pbf.type === LENGTH) list.push(pbf.readMessage(readTimeSeries, { labels: [], samples: [] }));
}

function readChunk(field: number, chunk: PromChunk, pbf: PbfReader): void {
  if (field === 3 && pbf.type === VARINT) chunk.type = pbf.readVarint();
  else if (field === 4 && pbf.type === LENGTH) chunk.data = pbf.readBytes();
}

function readChunkedSeries(field: number, series: ChunkedSeries, pbf: PbfReader): void {
  if (pbf.type !== LENGTH) return;
  if (field === 1) series.labels.push(pbf.readMessage(readLabel, { name: '', value: '' }));
  else if (field === 2) series.chunks.push(pbf.readMessage(readChunk, { type: 0, data: new Uint8Array(0) }));
}

function readChunkedResponse(field: number, response: ChunkedReadResponse, pbf: PbfReader): void {
  if (field === 1 && pbf.type === LENGTH) response.series.push(pbf.readMessage(readChunkedSeries, { labels: [], chunks: [] }));
  else if (field === 2 && pbf.type === VARINT) response.queryIndex = pbf.readVarint(true);
}

function writeMatcher(m: PromLabelMatcher, pbf: PbfWriter): void {
  pbf.writeVarintField(1, m.type);
  pbf.writeStringField(2, m.name);
  pbf.writeStringField(3, m.value);
}

function writeQuery(q: PromQuery, pbf: PbfWriter): void {
  pbf.writeVarintField(1, q.startTimestampMs);
  pbf.writeVarintField(2, q.endTimestampMs);
  for (const m of q.matchers) pbf.writeMessage(3, writeMatcher, m);
}

export const ReadRequestCodec = {
  encode(request: ReadRequest): Uint8Array {
    const pbf = new PbfWriter();
    for (const q of request.queries) pbf.writeMessage(1, writeQuery, q);
    pbf.writePackedVarint(2, request.acceptedResponseTypes);
    return pbf.finish();
  },
};

export const ReadResponseCodec = {
  decode(bytes: Uint8Array): ReadResponse {
    const results: ReadResponse['results'] = [];
    new PbfReader(bytes).readFields((field, list, pbf) => {
      if (field === 1 && pbf.type === LENGTH) list.push({ timeseries: pbf.readMessage(readSeriesList, []) });
    }, results);
    return { results };
  },
};

export const ChunkedReadResponseCodec = {
  decode(bytes: Uint8Array): ChunkedReadResponse {
    return new PbfReader(bytes).readFields(readChunkedResponse, { series: [], queryIndex: 0 });
  },
};

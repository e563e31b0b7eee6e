// Prometheus's remote-storage protocol buffers (prompb: remote.proto and types.proto), the messages
// the router reads and writes, over protobufjs's wire reader and writer ("minimal" build: the
// reflection build cost the AWS bundle 100 KB, past its 1 MB budget). What follows is what protobufjs's
// static code generator would write for these messages, field numbers as in prompb; fields the router
// does not read (native histograms, exemplars, hints) are skipped.
import protobuf from 'protobufjs/minimal.js';

const { Reader, Writer } = protobuf;

// int64 fields (timestamps) read as plain numbers rather than Long objects: a Long per sample would
// double the decoder's work.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export interface PromLabel { name: string; value: string }
export interface PromSample { value: number; timestamp: number }
export interface PromTimeSeries { labels: PromLabel[]; samples: PromSample[] }
export type MatcherType = 0 | 1 | 2 | 3;
export interface PromLabelMatcher { type: MatcherType; name: string; value: string }
export interface PromQuery { startTimestampMs: number; endTimestampMs: number; matchers: PromLabelMatcher[] }
export interface ReadRequest { queries: PromQuery[]; acceptedResponseTypes: number[] }
export interface ReadResponse { results: { timeseries: PromTimeSeries[] }[] }
export interface WriteRequest { timeseries: PromTimeSeries[] }

export const MATCHER_TYPES = { '=': 0, '!=': 1, '=~': 2, '!~': 3 } as const satisfies Record<string, MatcherType>;
/** ReadRequest.ResponseType.SAMPLES. */
export const RESPONSE_SAMPLES = 0;

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const tag = (field: number, wire: number) => ((field << 3) | wire) >>> 0;

type Reader = protobuf.Reader;
type Writer = protobuf.Writer;

/** Reads the fields of one length-delimited message (or the whole buffer: `end` = its length). */
function fields(reader: Reader, end: number, read: (field: number, wire: number) => boolean): void {
  while (reader.pos < end) {
    const t = reader.uint32();
    if (!read(t >>> 3, t & 7)) reader.skipType(t & 7);
  }
}

const nested = (reader: Reader) => reader.uint32() + reader.pos;

/** int64 as a number: milliseconds since 1970 stay far below 2^53. */
function int64(reader: Reader): number {
  const v = reader.int64() as unknown as number | { toNumber(): number };
  return typeof v === 'number' ? v : v.toNumber();
}

function readLabel(reader: Reader, end: number): PromLabel {
  const label = { name: '', value: '' };
  fields(reader, end, (field, wire) => {
    if (wire !== LENGTH) return false;
    if (field === 1) label.name = reader.string();
    else if (field === 2) label.value = reader.string();
    else return false;
    return true;
  });
  return label;
}

function readSample(reader: Reader, end: number): PromSample {
  const sample = { value: 0, timestamp: 0 };
  fields(reader, end, (field, wire) => {
    if (field === 1 && wire === FIXED64) sample.value = reader.double();
    else if (field === 2 && wire === VARINT) sample.timestamp = int64(reader);
    else return false;
    return true;
  });
  return sample;
}

function readTimeSeries(reader: Reader, end: number): PromTimeSeries {
  const series: PromTimeSeries = { labels: [], samples: [] };
  fields(reader, end, (field, wire) => {
    if (wire !== LENGTH) return false;
    if (field === 1) series.labels.push(readLabel(reader, nested(reader)));
    else if (field === 2) series.samples.push(readSample(reader, nested(reader)));
    else return false;
    return true;
  });
  return series;
}

/** Messages whose only field the router reads is a repeated TimeSeries (QueryResult, WriteRequest). */
function readSeriesList(reader: Reader, end: number, field: number): PromTimeSeries[] {
  const list: PromTimeSeries[] = [];
  fields(reader, end, (f, wire) => {
    if (f !== field || wire !== LENGTH) return false;
    list.push(readTimeSeries(reader, nested(reader)));
    return true;
  });
  return list;
}

function writeTimeSeries(writer: Writer, s: PromTimeSeries): void {
  for (const { name, value } of s.labels) writer.uint32(tag(1, LENGTH)).fork().uint32(tag(1, LENGTH)).string(name).uint32(tag(2, LENGTH)).string(value).ldelim();
  for (const { value, timestamp } of s.samples) writer.uint32(tag(2, LENGTH)).fork().uint32(tag(1, FIXED64)).double(value).uint32(tag(2, VARINT)).int64(timestamp).ldelim();
}

export const ReadRequestCodec = {
  encode(request: ReadRequest): Uint8Array {
    const writer = Writer.create();
    for (const q of request.queries) {
      writer.uint32(tag(1, LENGTH)).fork();
      writer.uint32(tag(1, VARINT)).int64(q.startTimestampMs).uint32(tag(2, VARINT)).int64(q.endTimestampMs);
      for (const m of q.matchers) {
        writer.uint32(tag(3, LENGTH)).fork().uint32(tag(1, VARINT)).int32(m.type).uint32(tag(2, LENGTH)).string(m.name).uint32(tag(3, LENGTH)).string(m.value).ldelim();
      }
      writer.ldelim();
    }
    if (request.acceptedResponseTypes.length > 0) {
      writer.uint32(tag(2, LENGTH)).fork();
      for (const t of request.acceptedResponseTypes) writer.int32(t);
      writer.ldelim();
    }
    return writer.finish();
  },
};

export const ReadResponseCodec = {
  decode(bytes: Uint8Array): ReadResponse {
    const reader = Reader.create(bytes);
    const results: ReadResponse['results'] = [];
    fields(reader, reader.len, (field, wire) => {
      if (field !== 1 || wire !== LENGTH) return false;
      results.push({ timeseries: readSeriesList(reader, nested(reader), 1) });
      return true;
    });
    return { results };
  },
};

export const WriteRequestCodec = {
  encode(request: WriteRequest): Uint8Array {
    const writer = Writer.create();
    for (const s of request.timeseries) {
      writer.uint32(tag(1, LENGTH)).fork();
      writeTimeSeries(writer, s);
      writer.ldelim();
    }
    return writer.finish();
  },
  decode(bytes: Uint8Array): WriteRequest {
    const reader = Reader.create(bytes);
    return { timeseries: readSeriesList(reader, reader.len, 1) };
  },
};

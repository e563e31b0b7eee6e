// Prometheus's remote-storage protocol buffers (prompb: remote.proto and types.proto), the messages
// the router reads and writes, declared as a protobufjs descriptor: no .proto file to ship beside the
// bundles, no generated code. Fields the router does not read (native histograms, metadata, hints) are
// left out; protobufjs skips unknown fields when decoding.
import protobuf from 'protobufjs/light.js';

// int64 fields (timestamps) as plain numbers rather than Long objects: milliseconds since 1970 stay
// far below 2^53, and a Long per sample would double the decoder's work.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const descriptor = {
  nested: {
    prometheus: {
      nested: {
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        LabelMatcher: {
          fields: { type: { type: 'MatcherType', id: 1 }, name: { type: 'string', id: 2 }, value: { type: 'string', id: 3 } },
        },
        MatcherType: { values: { EQ: 0, NEQ: 1, RE: 2, NRE: 3 } },
        Query: {
          fields: {
            startTimestampMs: { type: 'int64', id: 1 },
            endTimestampMs: { type: 'int64', id: 2 },
            matchers: { rule: 'repeated', type: 'LabelMatcher', id: 3 },
          },
        },
        ResponseType: { values: { SAMPLES: 0, STREAMED_XOR_CHUNKS: 1 } },
        ReadRequest: {
          fields: {
            queries: { rule: 'repeated', type: 'Query', id: 1 },
            acceptedResponseTypes: { rule: 'repeated', type: 'ResponseType', id: 2 },
          },
        },
        QueryResult: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        ReadResponse: { fields: { results: { rule: 'repeated', type: 'QueryResult', id: 1 } } },
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);

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
export const RESPONSE_SAMPLES = 0;

/** A protobufjs message type narrowed to the plain objects the router builds and reads. */
interface Codec<T> {
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

function codec<T>(name: string): Codec<T> {
  const type = root.lookupType(`prometheus.${name}`);
  return {
    encode: (message) => type.encode(type.fromObject(message as Record<string, unknown>)).finish(),
    // Arrays are always present in the decoded message (protobufjs sets repeated fields to []).
    decode: (bytes) => type.decode(bytes) as unknown as T,
  };
}

export const ReadRequestCodec = codec<ReadRequest>('ReadRequest');
export const ReadResponseCodec = codec<ReadResponse>('ReadResponse');
export const WriteRequestCodec = codec<WriteRequest>('WriteRequest');

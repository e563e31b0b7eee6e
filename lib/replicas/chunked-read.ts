// A remote read answer of type STREAMED_XOR_CHUNKS (Prometheus 2.x): frames (frames.ts) of
// ChunkedReadResponse messages, each (part of) one series of one query as XOR chunks (xor-chunk.ts),
// series after series, a series' chunks in time order. Decoded as the answer arrives: the router holds
// the samples decoded so far and at most one frame.
//
// Chunks hold whole stretches of a series: the samples outside the query's time range are left out
// here, as Prometheus leaves them out of a SAMPLES answer.
import type { Readable } from 'node:stream';
import { ApiError } from '../errors.ts';
import type { AnswerBytes } from '../collectors/answer-bytes.ts';
import { brokeOff } from '../collectors/checked-body.ts';
import { formatLabels, labelsFrom } from '../engine/labels.ts';
import type { Codecs } from './load-codecs.ts';
import type { PromLabel } from './prompb.ts';
import type { ReadSelection, ReplicaSeries } from './remote-read.ts';
import type { SampleBuffer } from './xor-chunk.ts';

/** What a decoded sample takes in memory (two float64s), counted against the request's budget. */
const SAMPLE_BYTES = 16;
/** Chunk.Encoding's names, for the error about encodings other than XOR. */
const ENCODINGS = ['unknown', 'XOR', 'histogram', 'float histogram'];

/**
 * Every selection's series from a streamed answer `body`. `what` names the replica in errors: a stream
 * that breaks off, fails a checksum or holds no valid messages is the replica's failure (unavailable);
 * one larger than `budget` allows, or holding chunks of native histograms, an error about the query.
 */
export async function readChunkedAnswer(
  codecs: Codecs, body: Readable, selections: readonly ReadSelection[], budget: AnswerBytes, shard: string, what: string,
): Promise<{ series: ReplicaSeries[][]; bytes: { wire: number; protobuf: number } }> {
  const { FrameError, FrameReader, ChunkedReadResponseCodec, CHUNK_XOR, CHUNK_OOO_XOR, appendXorChunk, xorSampleCount } = codecs;
  const series: ReplicaSeries[][] = selections.map(() => []);
  let current: { labels: PromLabel[]; query: number; samples: SampleBuffer } | null = null;
  const finish = () => {
    if (current !== null) series[current.query]!.push({ labels: current.labels, ...inTimeOrder(current.samples.done()) });
  };
  const bytes = { wire: 0, protobuf: 0 };
  const frames = new FrameReader(
    (size) => {
      if (!budget.take(size)) throw budget.exceeded(shard);
    },
    (message) => {
      bytes.protobuf += message.length;
      const { series: parts, queryIndex } = ChunkedReadResponseCodec.decode(message);
      // Queries are answered in order, each at most once.
      if (!(queryIndex >= (current?.query ?? 0) && queryIndex < selections.length)) {
        throw new FrameError(`a frame answers query ${queryIndex}, after query ${current?.query ?? 0} of ${selections.length}`);
      }
      const { start, end } = selections[queryIndex]!;
      for (const part of parts) {
        // A series' chunks may come in several frames, one after the other.
        if (current === null || current.query !== queryIndex || !sameLabels(current.labels, part.labels)) {
          finish();
          current = { labels: part.labels, query: queryIndex, samples: new codecs.SampleBuffer() };
        }
        for (const chunk of part.chunks) {
          if (chunk.type !== CHUNK_XOR && chunk.type !== CHUNK_OOO_XOR) {
            const encoding = ENCODINGS[chunk.type] ?? `encoding ${chunk.type}`;
            throw new ApiError('execution', `shard ${JSON.stringify(shard)}: series ${formatLabels(labelsFrom(part.labels.map((l) => [l.name, l.value])))} has ${encoding} chunks: the router merges float samples only (no native histograms)`);
          }
          const count = xorSampleCount(chunk.data);
          if (!budget.take(count * SAMPLE_BYTES)) throw budget.exceeded(shard);
          current.samples.reserve(count);
          appendXorChunk(chunk.data, current.samples, start, end);
        }
      }
    },
  );
  try {
    for await (const chunk of body) {
      bytes.wire += (chunk as Buffer).byteLength;
      frames.push(chunk as Buffer);
    }
    frames.end();
  } catch (err) {
    body.destroy();
    if (err instanceof ApiError) throw err;
    if (err instanceof FrameError || err instanceof codecs.ChunkDecodeError) throw new ApiError('unavailable', `${what} answered remote read with a broken stream: ${err.message}`);
    throw brokeOff(shard, err);
  }
  finish();
  return { series, bytes };
}

function sameLabels(a: readonly PromLabel[], b: readonly PromLabel[]): boolean {
  return a.length === b.length && a.every((l, i) => l.name === b[i]!.name && l.value === b[i]!.value);
}

/**
 * The samples in time order, each timestamp once. A series' chunks come in order of their start and
 * "may overlap" (remote.proto): where they do, the samples are sorted, the first of a timestamp kept.
 */
function inTimeOrder(s: { timestamps: Float64Array; values: Float64Array }): { timestamps: Float64Array; values: Float64Array } {
  const t = s.timestamps;
  let ordered = true;
  for (let i = 1; i < t.length && ordered; i++) ordered = t[i]! > t[i - 1]!;
  if (ordered) return s;
  const order = Array.from(t.keys()).sort((a, b) => t[a]! - t[b]! || a - b);
  const kept = order.filter((i, k) => k === 0 || t[i] !== t[order[k - 1]!]);
  const values = new Float64Array(kept.length);
  // Copied as bits: a NaN's payload (the staleness marker) must survive.
  const from = new BigUint64Array(s.values.buffer, s.values.byteOffset, s.values.length);
  const to = new BigUint64Array(values.buffer);
  kept.forEach((i, k) => (to[k] = from[i]!));
  return { timestamps: Float64Array.from(kept, (i) => t[i]!), values };
}

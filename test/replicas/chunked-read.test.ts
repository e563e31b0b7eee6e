// Remote read's STREAMED_XOR_CHUNKS answers as real Prometheus 2.42 servers send them: one serving
// backfilled blocks (an HA replica's data, external label included), one fed by remote write with the
// values and timestamp steps that exercise every branch of the XOR encoding (staleness markers, NaN,
// infinities, -0, jumps of every delta-of-delta size, backwards steps of the delta). Each server's
// SAMPLES answer to the same queries is the oracle: Prometheus decodes its own chunks for it. The
// error paths read a captured stream that was broken on purpose, and frames crafted around real chunks.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PbfWriter } from 'pbf';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerBytes } from '../../lib/collectors/answer-bytes.ts';
import { ApiError } from '../../lib/errors.ts';
import { readChunkedAnswer } from '../../lib/replicas/chunked-read.ts';
import { crc32c } from '../../lib/replicas/frames.ts';
import { loadCodecs } from '../../lib/replicas/load-codecs.ts';
import { ChunkedReadResponseCodec, MATCHER_TYPES, ReadRequestCodec, RESPONSE_SAMPLES, RESPONSE_STREAMED_XOR_CHUNKS } from '../../lib/replicas/prompb.ts';
import { readReplica, type ReadSelection, type ReplicaSeries } from '../../lib/replicas/remote-read.ts';
import type { Shard } from '../../lib/shards/schema.ts';
import { END_S, START_S } from '../e2e/harness/generate.ts';
import { startPrometheus, type PrometheusServer } from '../e2e/harness/prometheus.ts';
import { HOLES, prepareReplicaBlocks, serveBlocks } from '../e2e/harness/replicas.ts';
import type { StoredSeries } from '../promqltest/cases.ts';
import { remoteWrite } from '../promqltest/remote-write.ts';

const MINUTE = 60_000;

let runDir = '';
let blocksServer: PrometheusServer;
let writtenServer: PrometheusServer;
/** The first sample of the remote-written series (ms). */
let writtenFrom = 0;

/** Irregular timestamps and awkward values: every branch of xor.go's encoder, through a real Prometheus. */
function oddSeries(from: number): StoredSeries[] {
  const steps = [15_000, 15_000, 15_001, 14_990, 15_000 + 8_000, 15_000 - 8_000, 15_000 + 65_000, 15_000 + 500_000, 15_000 + 3_000_000, 1, 2, 15_000];
  const values: (number | 'stale')[] = [0, -0, 1, 1, 1.5, NaN, Infinity, -Infinity, 'stale', 1e308, 5e-324, -123.456, 2 ** 53, 0.1, 0.2, 0.30000000000000004];
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  return ['steps', 'values', 'random'].map((kind) => {
    const samples: StoredSeries['samples'] = [];
    let t = from;
    for (let i = 0; i < 400; i++) {
      samples.push({ t, value: kind === 'values' ? values[i % values.length]! : kind === 'random' ? (random() - 0.5) * 10 ** Math.floor(random() * 20 - 10) : i });
      t += kind === 'steps' ? steps[i % steps.length]! : 15_000;
    }
    return { labels: { __name__: 'xor_test', kind }, samples };
  });
}

beforeAll(async () => {
  runDir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-chunks-'));
  const blocks = await prepareReplicaBlocks(HOLES.version, 'a', HOLES.build);
  const writeDir = path.join(runDir, 'written', 'data');
  await mkdir(writeDir, { recursive: true });
  [blocksServer, writtenServer] = await Promise.all([
    serveBlocks(blocks.replica1!, runDir, 'blocks', { externalLabels: { replica: 'one' } }),
    startPrometheus({ dataDir: writeDir, readyQuery: null, extraArgs: ['--web.enable-remote-write-receiver'] }, 'written'),
  ]);
  // The head accepts samples up to an hour older than its newest; these span about four hours, sent at once.
  writtenFrom = Math.floor(Date.now() / 1000) * 1000 - 4 * 60 * MINUTE;
  await remoteWrite(writtenServer.url, oddSeries(writtenFrom));
}, 180_000);

afterAll(async () => {
  await Promise.all([blocksServer?.stop(), writtenServer?.stop()]);
  await rm(runDir, { recursive: true, force: true });
});

const shardOf = (server: PrometheusServer): Shard => ({ name: 'a', urls: [server.url], headers: {} });
const bigBudget = () => new AnswerBytes(2 ** 31);

/** Series by their labels, samples as exact bits (a NaN's payload included). */
function byLabels(series: readonly ReplicaSeries[]): Map<string, { timestamps: number[]; bits: string[] }> {
  return new Map(series.map((s) => [
    JSON.stringify(s.labels),
    { timestamps: Array.from(s.timestamps), bits: Array.from(new BigUint64Array(s.values.buffer, s.values.byteOffset, s.values.length), (b) => b.toString(16)) },
  ]));
}

async function bothWays(server: PrometheusServer, selections: ReadSelection[]) {
  const chunks = await readReplica(shardOf(server), 0, selections, Date.now() + 60_000, bigBudget());
  const samples = await readReplica(shardOf(server), 0, selections, Date.now() + 60_000, bigBudget(), [RESPONSE_SAMPLES]);
  return { chunks, samples };
}

const START = START_S * 1000;
const END = END_S * 1000;
const all = [{ name: '__name__', op: '=~', value: '.+' }] as const;

describe('STREAMED_XOR_CHUNKS from Prometheus 2.42', () => {
  it('is what a 2.42 server answers, and its chunks hold exactly the samples of its SAMPLES answer (blocks)', async () => {
    const selections: ReadSelection[] = [
      { matchers: all, start: START, end: END },
      // Ends inside chunks: samples outside the range must be left out, as SAMPLES leaves them out.
      { matchers: [{ name: '__name__', op: '=~', value: 'demo_.*' }], start: START + 37 * MINUTE + 123, end: START + 41 * MINUTE + 7_001 },
      { matchers: [{ name: '__name__', op: '=', value: 'up' }, { name: 'instance', op: '!=', value: '' }], start: START + 61 * MINUTE, end: START + 89 * MINUTE },
      { matchers: [{ name: '__name__', op: '=', value: 'no_such_metric' }], start: START, end: END },
    ];
    const { chunks, samples } = await bothWays(blocksServer, selections);
    expect(chunks.bytes.type).toBe('chunks');
    expect(samples.bytes.type).toBe('samples');
    expect(chunks.series.map((s) => s.length)).toEqual(samples.series.map((s) => s.length));
    expect(chunks.series[0]!.length).toBeGreaterThan(100);
    expect(chunks.series[3]).toEqual([]);
    for (const [i, list] of chunks.series.entries()) expect(byLabels(list), `query ${i}`).toEqual(byLabels(samples.series[i]!));
    // The replica's external label is gone from both, as the query API never shows it.
    expect(chunks.series[0]!.some((s) => s.labels.some((l) => l.name === 'replica'))).toBe(false);
    expect(chunks.bytes.wire).toBeLessThan(samples.bytes.wire);
  });

  it('decodes every branch of the XOR encoding as Prometheus does (remote-written head chunks)', async () => {
    const selections: ReadSelection[] = [
      { matchers: [{ name: '__name__', op: '=', value: 'xor_test' }], start: writtenFrom - MINUTE, end: writtenFrom + 48 * 60 * MINUTE },
      { matchers: [{ name: 'kind', op: '=', value: 'steps' }], start: writtenFrom + 17 * MINUTE + 1, end: writtenFrom + 93 * MINUTE },
    ];
    const { chunks, samples } = await bothWays(writtenServer, selections);
    expect(chunks.bytes.type).toBe('chunks');
    expect(chunks.series[0]!.map((s) => s.timestamps.length)).toEqual([400, 400, 400]);
    // One difference, where SAMPLES is the one that loses: proto3 leaves a double field of 0 out, and
    // -0 == 0 in Go, so a SAMPLES answer turns -0 into 0; the chunk keeps -0, as the query API shows it.
    const negativeZero = (bits: string[]) => bits.map((b) => (b === '8000000000000000' ? '0' : b));
    for (const [i, list] of chunks.series.entries()) {
      const [got, want] = [byLabels(list), byLabels(samples.series[i]!)];
      for (const series of got.values()) series.bits = negativeZero(series.bits);
      expect(got, `query ${i}`).toEqual(want);
    }
    const shown = await fetch(`${writtenServer.url}/api/v1/query?${new URLSearchParams({ query: 'xor_test{kind="values"}', time: String((writtenFrom + 15_000) / 1000) })}`);
    expect(((await shown.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]!.value[1]).toBe('-0');
    const values = chunks.series[0]!.find((s) => s.labels.some((l) => l.value === 'values'))!;
    expect(Array.from(values.values.slice(0, 9), (v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(['0', '-0', '1', '1', '1.5', 'NaN', 'Infinity', '-Infinity', 'NaN']);
    expect(new BigUint64Array(values.values.buffer, 8 * 8, 1)[0]).toBe(0x7ff0000000000002n); // the staleness marker, bit for bit
  });
});

/** A streamed answer as the server sent it, bytes untouched. */
async function captureStream(server: PrometheusServer, selections: readonly ReadSelection[]): Promise<Buffer> {
  const request = ReadRequestCodec.encode({
    queries: selections.map(({ matchers, start, end }) => ({ startTimestampMs: start, endTimestampMs: end, matchers: matchers.map((m) => ({ type: MATCHER_TYPES[m.op], name: m.name, value: m.value })) })),
    acceptedResponseTypes: [RESPONSE_STREAMED_XOR_CHUNKS],
  });
  const response = await fetch(`${server.url}/api/v1/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-read-version': '0.1.0' },
    body: Buffer.from(snappy.compress(request)),
  });
  expect(response.headers.get('content-type')).toBe('application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse');
  return Buffer.from(await response.arrayBuffer());
}

/** One frame as chunked.go writes it: uvarint size, big-endian CRC-32C, message. */
function frame(message: Uint8Array): Buffer {
  const header = new PbfWriter();
  header.writeVarint(message.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(message));
  return Buffer.concat([header.finish(), crc, message]);
}

/** A ChunkedReadResponse of one series with one chunk. */
function chunkMessage(type: number, data: Uint8Array, queryIndex = 0): Uint8Array {
  const pbf = new PbfWriter();
  pbf.writeMessage(1, (_: unknown, w: PbfWriter) => {
    w.writeMessage(1, (_l: unknown, l: PbfWriter) => {
      l.writeStringField(1, '__name__');
      l.writeStringField(2, 'crafted');
    }, null);
    w.writeMessage(2, (_c: unknown, c: PbfWriter) => {
      c.writeVarintField(3, type);
      c.writeBytesField(4, data);
    }, null);
  }, null);
  pbf.writeVarintField(2, queryIndex);
  return pbf.finish();
}

describe('reading a stream', () => {
  const selections: ReadSelection[] = [{ matchers: [{ name: '__name__', op: '=~', value: 'demo_.*' }], start: START, end: END }];
  let stream: Buffer;
  let whole: ReplicaSeries[][];
  const read = async (pieces: readonly Uint8Array[], budget = bigBudget()) => readChunkedAnswer(await loadCodecs(), Readable.from(pieces), selections, budget, 'a', 'shard "a": collector #1');
  const failure = async (pieces: readonly Uint8Array[], budget?: AnswerBytes): Promise<ApiError> => {
    const err = await read(pieces, budget).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  };

  beforeAll(async () => {
    stream = await captureStream(blocksServer, selections);
    whole = (await read([stream])).series;
    expect(whole[0]!.length).toBeGreaterThan(10);
  });

  it('gives the same series whatever pieces the stream arrives in', async () => {
    for (const size of [1, 3, 14, 1000, 65_536]) {
      const pieces = Array.from({ length: Math.ceil(stream.length / size) }, (_, i) => stream.subarray(i * size, (i + 1) * size));
      expect(byLabels((await read(pieces)).series[0]!), `pieces of ${size}`).toEqual(byLabels(whole[0]!));
    }
  });

  it('computes CRC-32C (Castagnoli) as Prometheus does: the check value, and every frame of the stream', async () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    // Reading the stream above checked every frame's checksum; one bit flipped in a message fails it.
    const broken = Buffer.from(stream);
    broken[Math.floor(stream.length / 2)]! ^= 0x10;
    const err = await failure([broken]);
    expect(err.errorType).toBe('unavailable');
    expect(err.message).toMatch(/^shard "a": collector #1 answered remote read with a broken stream: .*(checksum|frame)/);
  });

  it('fails the replica, naming it, on a stream that breaks off inside a frame or its header', async () => {
    for (const cut of [stream.length - 1, 2]) {
      const err = await failure([stream.subarray(0, cut)]);
      expect(err.errorType).toBe('unavailable');
      expect(err.message).toMatch(/collector #1 answered remote read with a broken stream: the stream ends (\d+ bytes into a frame of \d+|inside a frame's header)/);
    }
  });

  it('shows the text Prometheus writes into the stream when it fails after the answer has begun', async () => {
    const err = await failure([stream, Buffer.from('expanding series: context deadline exceeded\n')]);
    expect(err.errorType).toBe('unavailable');
    expect(err.message).toContain('"expanding series: context deadline exceeded"');
  });

  it('refuses a frame larger than the request may still read, before reading it (422)', async () => {
    const err = await failure([stream], new AnswerBytes(1000));
    expect(err.errorType).toBe('execution');
    expect(err.message).toMatch(/shard "a": query processing would load more than 1000 bytes/);
    // A frame that claims more than the whole limit, its bytes never sent: refused at its header.
    const header = new PbfWriter();
    header.writeVarint(2 ** 40);
    expect((await failure([Buffer.concat([header.finish(), Buffer.alloc(4)])], new AnswerBytes(1 << 20))).errorType).toBe('execution');
  });

  it('refuses chunks of another encoding than XOR: native histograms (422)', async () => {
    const err = await failure([frame(chunkMessage(2, new Uint8Array([0, 1, 0])))]);
    expect(err.errorType).toBe('execution');
    expect(err.message).toBe('shard "a": series {__name__="crafted"} has histogram chunks: the router merges float samples only (no native histograms)');
  });

  it('fails the replica on a real chunk cut short, and on frames for a query it did not ask', async () => {
    // The first frame of the real stream, its first chunk's data cut in half, framed again.
    const size = stream[0]! < 0x80 ? 1 : stream[1]! < 0x80 ? 2 : 3;
    const first = ChunkedReadResponseCodec.decode(stream.subarray(size + 4, size + 4 + readUvarint(stream)));
    const data = first.series[0]!.chunks[0]!.data;
    const cut = await failure([frame(chunkMessage(1, data.subarray(0, data.length >> 1)))]);
    expect(cut.errorType).toBe('unavailable');
    expect(cut.message).toMatch(/broken stream: an XOR chunk of \d+ bytes ends before its \d+ samples do/);
    const elsewhere = await failure([frame(chunkMessage(1, data, 5))]);
    expect(elsewhere.message).toMatch(/broken stream: a frame answers query 5, after query 0 of 1/);
  });
});

function readUvarint(bytes: Uint8Array): number {
  let v = 0;
  for (let i = 0, scale = 1; ; i++, scale *= 128) {
    v += (bytes[i]! & 0x7f) * scale;
    if (bytes[i]! < 0x80) return v;
  }
}

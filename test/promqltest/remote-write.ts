// Prometheus remote write (protocol 1.0: a snappy-compressed protobuf WriteRequest), for the one kind
// of sample promtool cannot backfill: the staleness marker. Prometheus recognises staleness by the
// exact bits of its marker NaN (0x7ff0000000000002); OpenMetrics text has only the ordinary NaN, but
// remote write carries each value as a raw IEEE-754 double, so the marker arrives intact. Encoded
// with the libraries the router reads remote read with (pbf over the prompb messages, snappyjs); the
// writer lives here, since only tests write.
import { PbfWriter } from 'pbf';
import snappy from 'snappyjs';
import type { PromLabel, PromSample, PromTimeSeries } from '../../lib/replicas/prompb.ts';
import type { StoredSeries } from './cases.ts';

/** Prometheus's staleness marker (model/value.StaleNaN), built from its bits. */
const STALE_NAN = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;

export interface PromExemplar { labels: PromLabel[]; value: number; timestamp: number }
/** A series as remote write sends it: prompb's TimeSeries with its exemplars (field 3). */
export interface WrittenSeries extends PromTimeSeries { exemplars?: PromExemplar[] }

function writeLabel(label: PromLabel, pbf: PbfWriter): void {
  pbf.writeStringField(1, label.name);
  pbf.writeStringField(2, label.value);
}

function writeSample(sample: PromSample, pbf: PbfWriter): void {
  pbf.writeDoubleField(1, sample.value);
  pbf.writeVarintField(2, sample.timestamp);
}

function writeExemplar(exemplar: PromExemplar, pbf: PbfWriter): void {
  for (const label of exemplar.labels) pbf.writeMessage(1, writeLabel, label);
  pbf.writeDoubleField(2, exemplar.value);
  pbf.writeVarintField(3, exemplar.timestamp);
}

function writeTimeSeries(s: WrittenSeries, pbf: PbfWriter): void {
  for (const label of s.labels) pbf.writeMessage(1, writeLabel, label);
  for (const sample of s.samples) pbf.writeMessage(2, writeSample, sample);
  for (const exemplar of s.exemplars ?? []) pbf.writeMessage(3, writeExemplar, exemplar);
}

/** prompb's WriteRequest: `repeated TimeSeries timeseries = 1`. */
function writeRequest(timeseries: readonly WrittenSeries[]): Uint8Array {
  const pbf = new PbfWriter();
  for (const s of timeseries) pbf.writeMessage(1, writeTimeSeries, s);
  return pbf.finish();
}

/** The WriteRequest protobuf of float series (timestamps must be ms ≥ 0, in order per series). */
export function encodeWriteRequest(series: readonly StoredSeries[]): Uint8Array {
  return writeRequest(
    series.map((s) => ({
      // Prometheus expects the labels of a series sorted by name.
      labels: Object.keys(s.labels).sort().map((name) => ({ name, value: s.labels[name]! })),
      samples: s.samples.map(({ t, value }) => {
        if (typeof value === 'object') throw new Error('histogram samples are not supported by this encoder');
        return { timestamp: t, value: value === 'stale' ? STALE_NAN : value };
      }),
    })),
  );
}

/** Sends the series to a Prometheus started with `--web.enable-remote-write-receiver`. */
export async function remoteWrite(baseUrl: string, series: readonly StoredSeries[]): Promise<void> {
  if (series.length === 0) return;
  await remoteWriteRequest(baseUrl, encodeWriteRequest(series));
}

/** Sends series in prompb's shape (exemplars included) to a Prometheus receiving remote write. */
export async function remoteWriteSeries(baseUrl: string, series: WrittenSeries[]): Promise<void> {
  await remoteWriteRequest(baseUrl, writeRequest(series));
}

async function remoteWriteRequest(baseUrl: string, request: Uint8Array): Promise<void> {
  const response = await fetch(`${baseUrl}/api/v1/write`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    body: Buffer.from(snappy.compress(request)),
  });
  if (!response.ok) throw new Error(`remote write to ${baseUrl}: HTTP ${response.status} ${await response.text()}`);
}

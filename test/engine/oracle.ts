// A real Prometheus as the oracle for the router's own PromQL evaluation: backfill a small dataset,
// ask Prometheus for a function's answer and for the raw samples it was computed from, then run the
// router's implementation on those samples and compare. Expected values always come from Prometheus.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { backfill, startPrometheus } from '../e2e/harness/prometheus.ts';
import { formatValue } from '../../lib/engine/format.ts';
import { labelsFrom, labelsKey } from '../../lib/engine/labels.ts';
import type { Labels, Point } from '../../lib/engine/types.ts';
import { sampleValue as parseValue } from '../../lib/collectors/decode.ts';

/** Prometheus's answers as the engine tests hold them: instant vectors and range vectors. */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}
export type Vector = readonly Sample[];
export interface Series {
  readonly labels: Labels;
  readonly points: readonly Point[];
}
export type Matrix = readonly Series[];

export interface OracleServer {
  readonly url: string;
  /** Instant query; the raw JSON envelope. */
  query(query: string, timeSeconds: number): Promise<PromEnvelope>;
  /** Instant query returning an instant vector, as router values. Throws on an error answer. */
  vector(query: string, timeSeconds: number): Promise<Vector>;
  /** Instant query of a range selector (`x[5m]`): the raw samples, as router values. */
  matrix(query: string, timeSeconds: number): Promise<Matrix>;
  /** Instant query returning a scalar. */
  scalar(query: string, timeSeconds: number): Promise<number>;
  stop(): Promise<void>;
}

export interface PromEnvelope {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

/**
 * Starts Prometheus with the given OpenMetrics text (with `# EOF`) backfilled. `readyQuery` must return
 * data at `readyTime` (seconds) once the data is loaded.
 */
export async function startOracle(openMetrics: string, readyQuery: string, readyTime: number): Promise<OracleServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prome-route-oracle-'));
  const file = path.join(dir, 'data.om');
  await writeFile(file, openMetrics);
  const dataDir = path.join(dir, 'data');
  await backfill(file, dataDir);
  const server = await startPrometheus({ dataDir, workDir: dir, readyQuery, readyTime }, 'oracle');

  const query = async (q: string, time: number): Promise<PromEnvelope> => {
    const res = await fetch(`${server.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: q, time: String(time) }),
    });
    return (await res.json()) as PromEnvelope;
  };
  const result = async (q: string, time: number, type: string): Promise<unknown> => {
    const body = await query(q, time);
    if (body.status !== 'success' || body.data?.resultType !== type) {
      throw new Error(`${q}: expected a ${type}, got ${JSON.stringify(body).slice(0, 300)}`);
    }
    return body.data.result;
  };
  return {
    url: server.url,
    query,
    vector: async (q, t) => toVector(await result(q, t, 'vector')),
    matrix: async (q, t) => toMatrix(await result(q, t, 'matrix')),
    scalar: async (q, t) => parseValue(((await result(q, t, 'scalar')) as [number, string])[1]),
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { sampleValue as parseValue } from '../../lib/collectors/decode.ts';

export function toVector(result: unknown): Vector {
  return (result as { metric: Record<string, string>; value: [number, string] }[]).map(
    (s): Sample => ({ labels: labelsFrom(Object.entries(s.metric)), value: parseValue(s.value[1]) }),
  );
}

export function toMatrix(result: unknown): Matrix {
  return (result as { metric: Record<string, string>; values: [number, string][] }[]).map(
    (s): Series => ({
      labels: labelsFrom(Object.entries(s.metric)),
      points: s.values.map(([t, v]) => ({ t: Math.round(t * 1000), v: parseValue(v) })),
    }),
  );
}

/** Equal as Prometheus prints them, or within 1e-9 relative (float summation order), NaN equal to NaN. */
export function sameFloat(a: number, b: number): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (Number.isNaN(a) || Number.isNaN(b) || !Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * The router's vector is Prometheus's: the same samples as a set (labels → value, sameFloat), then in
 * Prometheus's order and, if `exact`, with exactly the values Prometheus printed. Not exact only where
 * the last bits may differ, e.g. `^` with non-integer exponents: Go's math.Pow goes through its own
 * assembly exp/log there (using FMA where the CPU has it), the router through Math.exp/Math.log.
 */
export function expectSameVector(actual: Vector, expected: Vector, exact = true): void {
  const byLabels = (v: Vector) => new Map(v.map((s) => [labelsKey(s.labels), s.value]));
  const want = byLabels(expected);
  const got = byLabels(actual);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, value] of want) expect(sameFloat(got.get(key)!, value), `${key}: ${got.get(key)} vs ${value}`).toBe(true);
  expect(actual.map((s) => labelsKey(s.labels))).toEqual(expected.map((s) => labelsKey(s.labels)));
  if (exact) expect(actual.map((s) => formatValue(s.value))).toEqual(expected.map((s) => formatValue(s.value)));
}

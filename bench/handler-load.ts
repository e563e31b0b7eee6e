// Loads for one warm instance of the bundled AWS handler (bench/handler-runner.mjs): API Gateway HTTP API
// (payload 2.0) events built from the recorded Grafana POST in test/functions/events, and one load run
// in the runner with a given Accept-Encoding. Shared by bench/handler-cpu.ts and bench/handler-gzip.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../test/e2e/harness/corpus.ts';
import type { Server } from './servers.ts';

/** This tree's bundle, or another build's (BENCH_AWS_BUNDLE: say, an older commit's, to compare). */
export const AWS_BUNDLE = process.env.BENCH_AWS_BUNDLE ?? path.join(REPO_ROOT, 'dist', 'aws', 'index.mjs');
const RECORDED_EVENT = path.join(REPO_ROOT, 'test', 'functions', 'events', 'apigw-v2-query-range-post-base64.json');
/** Grafana's, as recorded. */
export const GRAFANA_ACCEPT_ENCODING = 'gzip, deflate, br';

/** What the runner answers for a load: CPU and wall time summed over its invocations (µs), result body bytes. */
export interface RunnerAnswer { invocations: number; cpuUs: number; wallUs: number; bytes: number; failures: string[] }

/** The recorded event with each form (a query_range's parameters) as its body; everything else (stage, headers) as recorded. */
export function eventsFor(forms: readonly string[]): unknown[] {
  const recorded = JSON.parse(readFileSync(RECORDED_EVENT, 'utf8')) as { headers: Record<string, string>; requestContext: Record<string, unknown> };
  return forms.map((form, i) => ({
    ...recorded,
    headers: { ...recorded.headers, 'content-length': String(Buffer.byteLength(form)) },
    requestContext: { ...recorded.requestContext, requestId: `bench-${i}` },
    body: Buffer.from(form).toString('base64'),
    isBase64Encoded: true,
  }));
}

/** Every event of `load` through the runner's handler, in order, with `accept-encoding: <acceptEncoding>` ('' for none). */
export async function runHandlerLoad(runner: Server, load: string, acceptEncoding: string): Promise<RunnerAnswer> {
  const params = new URLSearchParams({ load, 'accept-encoding': acceptEncoding });
  const response = await fetch(`${runner.url}/run?${params}`, { method: 'POST' });
  if (response.status !== 200) throw new Error(`handler runner: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as RunnerAnswer;
}

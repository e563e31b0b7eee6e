// Cold start: the size of each bundle `npm run build` writes, and a fresh `node` process importing a
// bundled cloud handler and serving its first requests: `/-/healthy`, then an instant query against a
// real collector (SHARD_MAP_FILE names the collectors), with events as API Gateway (HTTP API, payload
// 2.0) and FC's HTTP trigger deliver them. A fresh `node` doing nothing is measured alongside, for
// Node's own start-up.
import { readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../test/e2e/harness/corpus.ts';
import { EVAL_TIME } from '../test/e2e/harness/generate.ts';
import { runCommand } from '../test/e2e/harness/processes.ts';
import { Markdown, median, type BenchContext } from './support.ts';

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);
const SIZE_TARGET = 1e6;
const IMPORT_TARGET_MS = 100;

const BUNDLES = [
  { platform: 'AWS Lambda', file: 'dist/aws/index.mjs' },
  { platform: 'Alibaba Cloud FC', file: 'dist/aliyun/index.js' },
  { platform: 'CLI (`prome-route serve`)', file: 'dist/cli.mjs', lazy: 'dist/chunks' },
];

const QUERY = { query: 'demo_num_cpus{cluster="a"}', time: String(EVAL_TIME) };

// Runs in the fresh process: argv = [bundle, platform]. Prints one JSON line.
const PROBE = `
const startedAt = performance.now(); // ms since this process started
const [bundle, platform] = process.argv.slice(2);
const { gunzipSync } = await import('node:zlib');
const query = ${JSON.stringify(new URLSearchParams(QUERY).toString())};
const headers = { accept: 'application/json', 'accept-encoding': 'gzip', 'user-agent': 'Grafana/11.3.0' };

// API Gateway HTTP API (payload 2.0), as recorded from a Grafana data source request.
function awsEvent(rawPath, rawQueryString) {
  return {
    version: '2.0', routeKey: '$default', rawPath, rawQueryString, headers: { ...headers, host: 'abc123.execute-api.eu-west-1.amazonaws.com' },
    queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)),
    requestContext: {
      accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', domainPrefix: 'abc123',
      http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'Grafana/11.3.0' },
      requestId: 'bench', routeKey: '$default', stage: '$default', time: '01/Jan/2026:00:00:00 +0000', timeEpoch: 1767225600000,
    },
    isBase64Encoded: false,
  };
}
const awsContext = (id) => ({
  awsRequestId: id, functionName: 'prome-route', functionVersion: '$LATEST', memoryLimitInMB: '1024',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:prome-route', logGroupName: '/aws/lambda/prome-route',
  logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000,
});
// FC 3.0 HTTP trigger: the event is JSON in a Buffer.
function fcEvent(rawPath, rawQueryString) {
  return Buffer.from(JSON.stringify({
    version: 'v1', rawPath, headers, queryParameters: Object.fromEntries(new URLSearchParams(rawQueryString)), body: '', isBase64Encoded: false,
    requestContext: { accountId: '1234567890', domainName: 'bench.cn-hangzhou.fcapp.run', domainPrefix: 'bench', requestId: 'bench', http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'Grafana/11.3.0' } },
  }));
}
const fcContext = (id) => ({ requestId: id, function: { name: 'prome-route', handler: 'index.handler', memory: 1024, timeout: 30 } });

const t0 = performance.now();
const mod = await import(bundle);
const handler = mod.handler ?? mod.default?.handler;
const imported = performance.now();
const invoke = (p, q, id) => platform === 'aws' ? handler(awsEvent(p, q), awsContext(id)) : handler(fcEvent(p, q), fcContext(id));
const healthy = await invoke('/-/healthy', '', 'r1');
const t2 = performance.now();
const answer = await invoke('/api/v1/query', query, 'r2');
const t3 = performance.now();
const decode = (r) => { const b = Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8'); return (r.headers?.['content-encoding'] === 'gzip' ? gunzipSync(b) : b).toString(); };
const body = JSON.parse(decode(answer));
const ok = healthy.statusCode === 200 && answer.statusCode === 200 && body.status === 'success' && body.data.result.length > 0
  && body.data.result.every((s) => s.metric.cluster === 'a');
process.stdout.write('PROBE ' + JSON.stringify({ ok, statuses: [healthy.statusCode, answer.statusCode], body: ok ? undefined : decode(answer).slice(0, 300),
  nodeStartMs: startedAt, importMs: imported - t0, healthyMs: t2 - imported, queryMs: t3 - t2, rssMB: process.memoryUsage().rss / 1e6 }) + '\\n');
process.exit(0);
`;

interface Probe { ok: boolean; statuses: number[]; body?: string; nodeStartMs: number; importMs: number; healthyMs: number; queryMs: number; rssMB: number }

async function probe(script: string, bundle: string, platform: string, mapFile: string): Promise<Probe & { wallMs: number }> {
  const t0 = performance.now();
  // env(1) gives the fresh process exactly this environment: no AWS/FC variables, the shard map file.
  const { code, stdout, stderr } = await runCommand('env', ['-i', `PATH=${process.env.PATH}`, `SHARD_MAP_FILE=${mapFile}`,
    process.execPath, script, bundle, platform]);
  const wallMs = performance.now() - t0;
  const line = stdout.split('\n').find((l) => l.startsWith('PROBE '));
  if (code !== 0 || line === undefined) throw new Error(`cold start of ${bundle} failed (exit ${code}): ${stderr.slice(-2000)}${stdout.slice(-1000)}`);
  const result = JSON.parse(line.slice(6)) as Probe;
  if (!result.ok) throw new Error(`cold start of ${bundle}: unexpected answer ${JSON.stringify(result)}`);
  return { ...result, wallMs };
}

export async function coldStart(ctx: BenchContext): Promise<string> {
  const md = new Markdown();
  const sizeRows = BUNDLES.map(({ platform, file, lazy }) => {
    let size: number | null = null;
    let note = '';
    try {
      size = statSync(path.join(REPO_ROOT, file)).size;
      if (lazy !== undefined) {
        const chunks = readdirSync(path.join(REPO_ROOT, lazy)).filter((f) => f.endsWith('.mjs'));
        const bytes = chunks.reduce((sum, f) => sum + statSync(path.join(REPO_ROOT, lazy, f)).size, 0);
        note = `; ${(bytes / 1e6).toFixed(2)} MB more in ${chunks.length} chunks under \`${lazy}\`, loaded on first use (cloud SDKs)`;
      }
    } catch { /* not built */ }
    return { platform, file, size, note };
  });
  md.text('bundle sizes (`npm run build`, minified where the build minifies):');
  md.table(['platform', 'bundle', 'size'], sizeRows.map((r) => [r.platform, `\`${r.file}\``, r.size === null ? 'not built' : `${(r.size / 1e6).toFixed(2)} MB (${(r.size / 1024).toFixed(0)} KiB)${r.note}`]));

  const script = path.join(ctx.workDir, 'cold-probe.mjs');
  await writeFile(script, PROBE);
  const handlers = [
    { name: 'AWS Lambda', platform: 'aws', file: 'dist/aws/index.mjs' },
    { name: 'Alibaba Cloud FC', platform: 'fc', file: 'dist/aliyun/index.js' },
  ].filter((h) => sizeRows.some((r) => r.file === h.file && r.size !== null));
  const results: Record<string, (Probe & { wallMs: number })[]> = Object.fromEntries(handlers.map((h) => [h.name, []]));
  const bare: number[] = [];
  const empty = path.join(ctx.workDir, 'empty.mjs');
  await writeFile(empty, '');
  // Alternating, so that drift hits every bundle alike.
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const { code } = await runCommand('env', ['-i', `PATH=${process.env.PATH}`, process.execPath, empty]);
    if (code !== 0) throw new Error('node failed to run an empty script');
    bare.push(performance.now() - t0);
    for (const h of handlers) results[h.name]!.push(await probe(script, path.join(REPO_ROOT, h.file), h.platform, ctx.shardMapFile));
  }
  md.text(`cold start: a fresh \`node\` process per run (${RUNS} runs each, alternating, medians). import = \`await import(bundle)\`; `
    + 'then the handler is invoked with a Grafana-like event (accept-encoding: gzip) for `/-/healthy`, then for '
    + `\`/api/v1/query?query=${QUERY.query}\` at EVAL_TIME against the real collector of shard a. Process = spawn to exit, as seen from outside. `
    + `A fresh \`node\` running an empty script: ${median(bare).toFixed(0)} ms spawn to exit.`);
  md.table(['handler', 'node start-up (ms)', 'import (ms)', 'first /-/healthy (ms)', 'first query (ms)', 'process (ms)', 'RSS after (MB)'],
    handlers.map((h) => {
      const r = results[h.name]!;
      const m = (f: (p: Probe & { wallMs: number }) => number) => median(r.map(f));
      return [h.name, m((p) => p.nodeStartMs).toFixed(0), `**${m((p) => p.importMs).toFixed(0)}**`, m((p) => p.healthyMs).toFixed(1), m((p) => p.queryMs).toFixed(1),
        m((p) => p.wallMs).toFixed(0), m((p) => p.rssMB).toFixed(0)];
    }));
  const aws = sizeRows.find((r) => r.file === 'dist/aws/index.mjs')!;
  const awsImport = results['AWS Lambda'] ? median(results['AWS Lambda'].map((p) => p.importMs)) : null;
  md.text(`target: AWS bundle under 1 MB: ${aws.size === null ? 'not built' : `${(aws.size / 1e6).toFixed(2)} MB (${aws.size < SIZE_TARGET ? 'met' : 'missed'})`}; `
    + `import under ${IMPORT_TARGET_MS} ms: ${awsImport === null ? 'not built' : `${awsImport.toFixed(0)} ms (${awsImport < IMPORT_TARGET_MS ? 'met' : 'missed'})`}.`);
  return md.toString();
}

// One warm instance of the bundled AWS Lambda handler, for bench/handler-cpu.ts. The bundle is imported
// once and invoked in this process one event at a time, as Lambda's runtime invokes it; the CPU of an
// invocation is process.cpuUsage() around it (user + system of every thread of this process: V8's
// garbage collector and libuv's pool, where gzip runs, included), which is what the function uses of
// the vCPU share Lambda bills by duration. Only the bundle's exported `handler` and the event format
// are relied on.
//
//   SHARD_MAP_FILE=... node bench/handler-runner.mjs PORT BUNDLE EVENTS_FILE
//
// EVENTS_FILE holds {"<load>": [event, ...]} (API Gateway HTTP API, payload 2.0). The benchmark asks over
// loopback HTTP, the way Lambda's runtime takes its events from the Runtime API:
//   GET  /-/healthy                                ready
//   POST /run?load=NAME&accept-encoding=VALUE      every event of the load in order, the header set to
//                                                  VALUE (absent if VALUE is empty); answers
//                                                  {"invocations","cpuUs","wallUs","bytes","failures"}
//                                                  (CPU and wall time summed over the invocations)
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [port, bundle, eventsFile] = process.argv.slice(2);
const loads = JSON.parse(readFileSync(eventsFile, 'utf8'));
const { handler } = await import(bundle);
const FUNCTION_TIMEOUT_MS = 29_000; // serverless.yml

let invocation = 0;
function context() {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  return {
    awsRequestId: `bench-${++invocation}`, functionName: 'prome-route', functionVersion: '$LATEST', memoryLimitInMB: '512',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:prome-route', logGroupName: '/aws/lambda/prome-route',
    logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

async function run(events, acceptEncoding) {
  let cpuUs = 0;
  let wallUs = 0;
  let bytes = 0;
  const failures = [];
  for (const recorded of events) {
    const headers = { ...recorded.headers };
    if (acceptEncoding === '') delete headers['accept-encoding'];
    else headers['accept-encoding'] = acceptEncoding;
    const event = { ...recorded, headers };
    const [before, started] = [process.cpuUsage(), performance.now()];
    const result = await handler(event, context());
    wallUs += (performance.now() - started) * 1000;
    const used = process.cpuUsage(before);
    cpuUs += used.user + used.system;
    bytes += result.body?.length ?? 0;
    if (result.statusCode !== 200) failures.push(`HTTP ${result.statusCode}: ${String(result.body).slice(0, 200)}`);
  }
  return { invocations: events.length, cpuUs, wallUs, bytes, failures };
}

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://runner');
  const answer = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  req.resume();
  if (url.pathname === '/-/healthy') return answer(200, { ok: true });
  const events = loads[url.searchParams.get('load')];
  if (url.pathname !== '/run' || req.method !== 'POST' || events === undefined) return answer(404, { error: 'no such load' });
  req.on('end', () => {
    run(events, url.searchParams.get('accept-encoding') ?? '').then((r) => answer(200, r), (err) => answer(500, { error: String(err?.stack ?? err) }));
  });
}).listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0)); // stopped by the benchmark: not an error

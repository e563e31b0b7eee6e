// A case that hangs (an endless loop in synchronous code) cannot be interrupted from its own thread:
// fast-check's timeouts and vitest's testTimeout only fire between cases. A watchdog thread watches
// a shared clock; if one case runs past the limit it prints the input and kills the test process,
// so the run fails loudly (vitest reports the worker's exit) with the query that hung.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const INPUT_BYTES = 64 * 1024;

const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const clock = new Float64Array(workerData.clock);
const input = new Uint8Array(workerData.input);
setInterval(() => {
  const started = clock[0];
  if (started === 0 || Date.now() - started <= workerData.limitMs) return;
  const text = new TextDecoder().decode(input.slice(0, clock[1]));
  const message = '\\n[property watchdog] ' + workerData.label + ': a case ran for more than ' + workerData.limitMs +
    ' ms; killing the test process. Input (JSON): ' + JSON.stringify(text) + '\\n';
  try { fs.writeFileSync(workerData.reportFile, message); } catch {}
  fs.writeSync(2, message + '(also written to ' + workerData.reportFile + ')\\n');
  process.kill(process.pid, 'SIGKILL');
}, 200);
`;

export class Watchdog {
  private readonly clock = new Float64Array(new SharedArrayBuffer(16));
  private readonly input = new Uint8Array(new SharedArrayBuffer(INPUT_BYTES));
  private readonly encoder = new TextEncoder();
  private readonly worker: Worker;

  constructor(label: string, readonly limitMs: number) {
    const reportFile = path.join(tmpdir(), `prome-route-property-hang-${process.pid}.txt`);
    this.worker = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: { clock: this.clock.buffer, input: this.input.buffer, limitMs, label, reportFile },
    });
    this.worker.unref();
  }

  /** Runs one case under watch; returns its result and how long it took. */
  time<T>(input: string, fn: () => T): { result: T; ms: number } {
    this.clock[1] = this.encoder.encodeInto(input, this.input).written;
    const started = Date.now();
    this.clock[0] = started;
    try {
      return { result: fn(), ms: Date.now() - started };
    } finally {
      this.clock[0] = 0;
    }
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

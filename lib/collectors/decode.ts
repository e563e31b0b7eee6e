// Decodes a scanned query answer's samples straight from the bytes into typed arrays on a step grid:
// no array of [time, "value"] pairs is ever built. The scanner has checked the JSON; this checks the
// shape Prometheus's API promises (`[<seconds>, "<value>"]` pairs) and refuses anything else.
import type { Span } from './json-scan.ts';

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class SampleShapeError extends Error {}

/** Where a sample at `ms` falls on the grid, or -1 when it is not one of the grid's steps. */
export type StepIndex = (ms: number) => number;

export interface DecodedSamples {
  readonly steps: Int32Array;
  readonly values: Float64Array;
}

/**
 * The samples of a `value` ([t, "v"]) or `values` ([[t, "v"], ...]) member: timestamps in seconds
 * become epoch ms and grid steps, values Prometheus's strings ("NaN", "+Inf") numbers.
 */
export function decodeSamples(body: Buffer, span: Span, stepIndex: StepIndex): DecodedSamples {
  const first = skipSpace(body, span.from + 1);
  // A vector's single pair starts with a number; a matrix's list with another bracket (or is empty).
  const single = body[first] !== OPEN_BRACKET && body[first] !== CLOSE_BRACKET;
  const capacity = single ? 1 : countPairs(body, span);
  const steps = new Int32Array(capacity);
  const values = new Float64Array(capacity);
  let n = 0;
  /** Reads the pair whose `[` is at `from`; returns the index after its `]`. */
  const pair = (from: number): number => {
    if (body[from] !== OPEN_BRACKET) throw new SampleShapeError('a sample that is not a [time, value] pair');
    let j = skipSpace(body, from + 1);
    const timeFrom = j;
    while (j < span.to && body[j] !== COMMA && !isSpace(body[j])) j++;
    const ms = timestampMs(body, timeFrom, j);
    j = skipSpace(body, j);
    if (body[j] !== COMMA || Number.isNaN(ms)) throw new SampleShapeError('a sample time that is not a number');
    j = skipSpace(body, j + 1);
    if (body[j] !== QUOTE) throw new SampleShapeError('a sample value that is not a string');
    const valueFrom = j + 1;
    const valueTo = body.indexOf(QUOTE, valueFrom);
    if (valueTo < 0 || valueTo >= span.to || body.subarray(valueFrom, valueTo).includes(BACKSLASH)) {
      throw new SampleShapeError('a sample value that is not a number');
    }
    const text = body.toString('latin1', valueFrom, valueTo);
    const value = sampleValue(text);
    if (Number.isNaN(value) && text !== 'NaN') throw new SampleShapeError(`a sample value that is not a number: ${JSON.stringify(text.slice(0, 40))}`);
    j = skipSpace(body, valueTo + 1);
    if (body[j] !== CLOSE_BRACKET) throw new SampleShapeError('a sample with more than a time and a value');
    const index = stepIndex(ms);
    if (index >= 0) {
      steps[n] = index;
      values[n++] = value;
    }
    return j + 1;
  };
  if (single) {
    if (pair(span.from) !== span.to) throw new SampleShapeError('a sample with more than a time and a value');
  } else {
    let i = first;
    while (body[i] !== CLOSE_BRACKET) {
      i = skipSpace(body, pair(i));
      if (body[i] === COMMA) i = skipSpace(body, i + 1);
    }
  }
  return { steps: steps.subarray(0, n), values: values.subarray(0, n) };
}

/**
 * A sample time (seconds, as Prometheus writes it: `1700000000.123`) in epoch ms. Up to three decimals
 * are read digit by digit into whole milliseconds, no string made; any other spelling (an exponent,
 * more decimals) goes through Number() and is rounded to the millisecond. NaN if it is no number.
 */
function timestampMs(body: Buffer, from: number, to: number): number {
  let ms = 0;
  let i = from;
  for (; i < to && body[i]! >= 0x30 && body[i]! <= 0x39; i++) ms = ms * 10 + (body[i]! - 0x30);
  let decimals = 0;
  if (i > from && i < to && body[i] === 0x2e) {
    i++;
    for (; decimals < 3 && i < to && body[i]! >= 0x30 && body[i]! <= 0x39; i++, decimals++) ms = ms * 10 + (body[i]! - 0x30);
    if (decimals === 0) i = -1;
  }
  if (i !== to || i === from || ms >= 2 ** 50) return Math.round(Number(body.toString('latin1', from, to)) * 1000);
  for (; decimals < 3; decimals++) ms *= 10;
  return ms;
}

/** Prometheus's JSON sample values: decimal strings, "NaN", "+Inf", "-Inf". */
export function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** At most the number of pairs in a matrix series' list: one per `[` after the list's own. */
function countPairs(body: Buffer, span: Span): number {
  let count = 0;
  for (let i = body.indexOf(OPEN_BRACKET, span.from + 1); i !== -1 && i < span.to; i = body.indexOf(OPEN_BRACKET, i + 1)) count++;
  return count;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(body: Buffer, i: number): number {
  while (isSpace(body[i])) i++;
  return i;
}

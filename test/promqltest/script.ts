// Prometheus's PromQL test scripts (the `promqltest` language: promql/test.go in 2.x,
// promql/promqltest/test.go in 3.x), parsed into commands. One parser reads both majors: 3.x only
// added constructs (expect lines, range evals, native histograms, start timestamps, ...), and a 2.42
// file parses to the same commands under either reading.
//
// Semantics follow upstream's reader: lines are trimmed, `#` lines are comments, a blank line ends a
// load or eval block, a line that parses as a number is a scalar expectation and ends the block, and
// every time is a duration from the Unix epoch (0 = 1970-01-01T00:00:00Z).
import { unquote } from '../../lib/promql/strings.ts';

/** One sample value: a float (NaN and ±Inf included), a staleness marker, or a native histogram. */
export type Point = number | 'stale' | NativeHistogram;
/** Values at successive steps; `undefined` is an omitted step (`_`). */
export type Sequence = (Point | undefined)[];
export type Labels = Record<string, string>;

export interface Buckets {
  /** Index of the first bucket (a histogram "span" offset). */
  offset: number;
  counts: number[];
}

export interface NativeHistogram {
  schema: number;
  sum: number;
  count: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: Buckets;
  negative: Buckets;
  /** Bucket upper bounds of a custom-buckets histogram (schema -53), if any. */
  customValues?: number[];
  /** Only set when the script states it: unstated hints are not checked by upstream. */
  counterResetHint?: 'unknown' | 'reset' | 'not_reset' | 'gauge';
}

export interface SeriesDesc {
  labels: Labels;
  values: Sequence;
  /** 1-based line in the script. */
  line: number;
}

export interface LoadedSeries extends SeriesDesc {
  /** Start-timestamp offsets in ms from each sample's own time (3.x `metric@st` lines), if given. */
  startOffsets?: (number | undefined)[];
}

export interface LoadCommand {
  kind: 'load';
  line: number;
  /** Last line of the command's block. */
  endLine: number;
  intervalMs: number;
  /** `load_with_nhcb`: classic histograms are also loaded as native histograms with custom buckets. */
  withNhcb: boolean;
  series: LoadedSeries[];
}

export interface ClearCommand { kind: 'clear'; line: number; endLine: number }

export type ExpectationType = 'fail' | 'ordered' | 'warn' | 'no_warn' | 'info' | 'no_info';

/** A 3.x `expect <type> [msg|regex: <text>]` line. */
export interface Expectation {
  type: ExpectationType;
  match?: { kind: 'msg' | 'regex'; text: string };
}

export type EvalQuery =
  | { type: 'instant'; timeMs: number }
  | { type: 'range'; startMs: number; endMs: number; stepMs: number };

export type ExpectedResult =
  | { kind: 'scalar'; value: number }
  | { kind: 'string'; value: string }
  /** Vector or matrix; an empty list expects an empty result. */
  | { kind: 'series'; series: SeriesDesc[] };

export interface EvalCommand {
  kind: 'eval';
  line: number;
  endLine: number;
  expr: string;
  query: EvalQuery;
  /** The suffix of `eval_<modifier>` (2.x and deprecated 3.x syntax), if any. */
  modifier: 'fail' | 'ordered' | 'warn' | 'info' | null;
  expectations: Expectation[];
  /** 3.x `expected_fail_message` / `expected_fail_regexp`. */
  failMatch?: { kind: 'msg' | 'regex'; text: string };
  /** 3.x `expect range vector from .. to .. step ..`: an instant query returning a range vector. */
  rangeVector?: { startMs: number; endMs: number; stepMs: number };
  expected: ExpectedResult;
}

export type Command = LoadCommand | ClearCommand | EvalCommand;

export class ScriptError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

/** Whether an eval expects the query to fail (`eval_fail` or `expect fail`). */
export const expectsFailure = (e: EvalCommand): boolean => e.modifier === 'fail' || e.expectations.some((x) => x.type === 'fail');
/** Whether an eval expects its result in the written order (`eval_ordered` or `expect ordered`). */
export const expectsOrder = (e: EvalCommand): boolean => e.modifier === 'ordered' || e.expectations.some((x) => x.type === 'ordered');

// --- durations and numbers ---------------------------------------------------------------------------

const DURATION_UNITS: [unit: string, ms: number][] = [
  ['y', 365 * 24 * 3600_000], ['w', 7 * 24 * 3600_000], ['d', 24 * 3600_000], ['h', 3600_000], ['m', 60_000], ['s', 1000], ['ms', 1],
];

/** A Prometheus duration (`1h30m`, `10s`, `0`), units largest first, each at most once; in ms. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  let rest = text;
  let ms = 0;
  let next = 0;
  while (rest !== '') {
    const m = /^(\d+)(ms|[ywdhms])/.exec(rest);
    const index = m ? DURATION_UNITS.findIndex(([u]) => u === m[2]) : -1;
    if (!m || index < next) throw new Error(`not a valid duration string: ${JSON.stringify(text)}`);
    ms += Number(m[1]) * DURATION_UNITS[index]![1];
    next = index + 1;
    rest = rest.slice(m[0].length);
  }
  if (text === '') throw new Error('empty duration string');
  return ms;
}

const GO_INT = /^[+-]?(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|0[bB][01]+|[1-9]\d*)$/;
const GO_FLOAT = /^[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/i;

/** A number as upstream's expectation lines read it: Go's ParseInt with base prefixes, else ParseFloat. */
export function parseGoNumber(text: string): number | null {
  if (GO_INT.test(text)) {
    const negative = text.startsWith('-');
    const digits = text.replace(/^[+-]/, '');
    const radix = /^0[xX]/.test(digits) ? 16 : /^0[bB]/.test(digits) ? 2 : /^0/.test(digits) && digits.length > 1 ? 8 : 10;
    const body = radix === 10 ? digits : digits.replace(/^0[xXoObB]?/, '') || '0';
    const n = Number.parseInt(body, radix);
    return negative ? -n : n;
  }
  if (!GO_FLOAT.test(text)) return null;
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

// --- series descriptions -----------------------------------------------------------------------------

const IDENTIFIER = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const STRING = /^(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/;

/** `name{l="v", ...}`, `name`, `{__name__="n"}` or 3.x's `{"quoted.name", "l.x"="v"}`; returns the end. */
export function parseMetric(text: string): { labels: Labels; end: number } {
  const labels: Labels = {};
  let pos = 0;
  const name = IDENTIFIER.exec(text);
  if (name) {
    labels.__name__ = name[0];
    pos = name[0].length;
  }
  if (text[pos] !== '{') {
    if (!name) throw new Error(`expected a metric name or "{" in ${JSON.stringify(text)}`);
    return { labels, end: pos };
  }
  pos++;
  const skipSpace = () => { while (text[pos] === ' ' || text[pos] === '\t') pos++; };
  for (;;) {
    skipSpace();
    if (text[pos] === '}') return { labels, end: pos + 1 };
    const rest = text.slice(pos);
    const quoted = STRING.exec(rest);
    const bare = quoted ? null : LABEL_NAME.exec(rest);
    if (!quoted && !bare) throw new Error(`expected a label name at ${JSON.stringify(rest)}`);
    const key = quoted ? unquote(quoted[0]) : bare![0];
    pos += (quoted ?? bare)![0].length;
    skipSpace();
    if (text[pos] === '=') {
      pos++;
      skipSpace();
      const value = STRING.exec(text.slice(pos));
      if (!value) throw new Error(`expected a quoted label value at ${JSON.stringify(text.slice(pos))}`);
      labels[key] = unquote(value[0]);
      pos += value[0].length;
    } else if (quoted) {
      labels.__name__ = key; // a lone quoted string is the metric name
    } else {
      throw new Error(`expected "=" after label ${key}`);
    }
    skipSpace();
    if (text[pos] === ',') pos++;
    else if (text[pos] !== '}') throw new Error(`expected "," or "}" at ${JSON.stringify(text.slice(pos))}`);
  }
}

/** A series line: a metric, then a value sequence in the expanding notation. */
export function parseSeriesDesc(text: string, line: number): SeriesDesc {
  try {
    const { labels, end } = parseMetric(text);
    if (end < text.length && !/[ \t]/.test(text[end]!)) throw new Error(`unexpected ${JSON.stringify(text.slice(end))} after the metric`);
    return { labels, values: parseSequence(text.slice(end)), line };
  } catch (err) {
    if (err instanceof ScriptError) throw err;
    throw new ScriptError(line, (err as Error).message);
  }
}

const SERIES_NUMBER = /^(?:inf|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/i;

/**
 * A value sequence: space-separated items, each `_`, `_xN`, `stale`, a number, `aXn` (a, n+1 times),
 * `a+bXn` / `a-bXn` (n+1 values from a in steps of b), a histogram `{{...}}`, `{{...}}xN`, or
 * `{{a}}+{{b}}xN` / `{{a}}-{{b}}xN`.
 */
export function parseSequence(text: string): Sequence {
  const out: Sequence = [];
  let pos = 0;
  const peek = () => text[pos];
  const fail = (what: string): never => { throw new Error(`unexpected ${JSON.stringify(text.slice(pos, pos + 20) || 'end')} in series values, expected ${what}`); };
  const uint = (): number => {
    const m = /^\d+/.exec(text.slice(pos));
    if (!m) fail('a repetition count');
    pos += m![0].length;
    return Number(m![0]);
  };
  /** `first` and N more values (the `xN` suffix), each `next` of the one before. */
  const expand = (first: Point, next: (previous: Point) => Point) => {
    const times = uint();
    for (let i = 0, v = first; i <= times; i++, v = next(v)) out.push(v);
  };
  const number = (): number => {
    let sign = 1;
    if (peek() === '+' || peek() === '-') {
      sign = peek() === '-' ? -1 : 1;
      pos++;
    }
    const m = SERIES_NUMBER.exec(text.slice(pos));
    if (!m) fail('a number');
    pos += m![0].length;
    return sign * parseGoNumber(m![0])!;
  };
  while (pos < text.length) {
    if (peek() === ' ' || peek() === '\t') {
      pos++;
      continue;
    }
    if (peek() === '_') {
      pos++;
      const times = peek() === 'x' ? (pos++, uint()) : 1;
      for (let i = 0; i < times; i++) out.push(undefined);
    } else if (text.startsWith('{{', pos)) {
      const first = histogram();
      if (peek() === 'x') {
        pos++;
        expand(first, (h) => h);
      } else if ((peek() === '+' || peek() === '-') && text.startsWith('{{', pos + 1)) {
        const sign = peek() === '-' ? -1 : 1;
        pos++;
        const step = histogram();
        if (peek() !== 'x') fail('"x" after a histogram increment');
        pos++;
        expand(first, (h) => addHistograms(h as NativeHistogram, step, sign));
      } else {
        out.push(first);
      }
    } else if (text.startsWith('stale', pos)) {
      pos += 5;
      if (peek() === 'x') {
        pos++;
        expand('stale', (v) => v);
      } else {
        out.push('stale');
      }
    } else {
      const start = number();
      if (peek() === 'x') {
        pos++;
        expand(start, (v) => v);
      } else if (peek() === '+' || peek() === '-') {
        const step = number();
        if (peek() !== 'x') fail('"x" after an increment');
        pos++;
        // Accumulated like upstream (value += step), so float rounding matches its expectations.
        expand(start, (v) => (v as number) + step);
      } else {
        out.push(start);
      }
    }
    if (pos < text.length && peek() !== ' ' && peek() !== '\t') fail('a space between values');
  }
  return out;

  function histogram(): NativeHistogram {
    const close = text.indexOf('}}', pos);
    if (close < 0) fail('"}}"');
    const h = parseHistogram(text.slice(pos + 2, close));
    pos = close + 2;
    return h;
  }
}

const HISTOGRAM_KEYS = new Set(['schema', 'sum', 'count', 'z_bucket', 'z_bucket_w', 'buckets', 'offset', 'n_buckets', 'n_offset', 'custom_values', 'counter_reset_hint']);
const RESET_HINTS = new Set(['unknown', 'reset', 'not_reset', 'gauge']);

/** The inside of `{{schema:1 sum:3 count:22 buckets:[5 10 7]}}`; unset fields are zero or empty. */
export function parseHistogram(body: string): NativeHistogram {
  const fields = new Map<string, string>();
  const item = /\s*([a-z_]+):\s*(\[[^\]]*\]|\S+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = item.exec(body)) !== null) {
    if (!HISTOGRAM_KEYS.has(m[1]!)) throw new Error(`unknown histogram field ${m[1]}`);
    fields.set(m[1]!, m[2]!);
    end = item.lastIndex;
  }
  if (body.slice(end).trim() !== '') throw new Error(`unexpected ${JSON.stringify(body.slice(end))} in histogram description`);
  const num = (key: string): number => {
    const raw = fields.get(key);
    if (raw === undefined) return 0;
    const n = parseGoNumber(raw);
    if (n === null) throw new Error(`histogram field ${key}: ${raw} is not a number`);
    return n;
  };
  const list = (key: string): number[] => {
    const raw = fields.get(key);
    if (raw === undefined) return [];
    if (!raw.startsWith('[')) throw new Error(`histogram field ${key}: expected [...]`);
    return raw.slice(1, -1).trim().split(/\s+/).filter((s) => s !== '').map((s) => {
      const n = parseGoNumber(s);
      if (n === null) throw new Error(`histogram field ${key}: ${s} is not a number`);
      return n;
    });
  };
  const h: NativeHistogram = {
    schema: num('schema'),
    sum: num('sum'),
    count: num('count'),
    zeroCount: num('z_bucket'),
    zeroThreshold: num('z_bucket_w'),
    positive: { offset: num('offset'), counts: list('buckets') },
    negative: { offset: num('n_offset'), counts: list('n_buckets') },
  };
  if (fields.has('custom_values')) h.customValues = list('custom_values');
  const hint = fields.get('counter_reset_hint');
  if (hint !== undefined) {
    if (!RESET_HINTS.has(hint)) throw new Error(`unknown counter_reset_hint ${hint}`);
    h.counterResetHint = hint as NativeHistogram['counterResetHint'];
  }
  return h;
}

/**
 * `a + sign*b`, bucket by bucket. As Prometheus adds histograms, the one of higher resolution is
 * first reduced to the other's schema (bucket i of schema s falls into ((i-1) >> (s-t)) + 1 of t);
 * custom-bucket histograms must share their bounds.
 */
function addHistograms(a: NativeHistogram, b: NativeHistogram, sign: 1 | -1): NativeHistogram {
  if (JSON.stringify(a.customValues) !== JSON.stringify(b.customValues)) {
    throw new Error('histogram series with different custom bucket bounds cannot be added');
  }
  const schema = Math.min(a.schema, b.schema);
  const add = (x: Buckets, xSchema: number, y: Buckets, ySchema: number): Buckets => {
    const counts = new Map<number, number>();
    const put = (from: Buckets, fromSchema: number, factor: number) => from.counts.forEach((c, k) => {
      const index = fromSchema === schema ? from.offset + k : ((from.offset + k - 1) >> (fromSchema - schema)) + 1;
      counts.set(index, (counts.get(index) ?? 0) + factor * c);
    });
    put(x, xSchema, 1);
    put(y, ySchema, sign);
    if (counts.size === 0) return { offset: x.offset, counts: [] };
    const indexes = [...counts.keys()];
    const offset = Math.min(...indexes);
    return { offset, counts: Array.from({ length: Math.max(...indexes) - offset + 1 }, (_, i) => counts.get(offset + i) ?? 0) };
  };
  const sum: NativeHistogram = {
    schema,
    sum: a.sum + sign * b.sum,
    count: a.count + sign * b.count,
    zeroCount: a.zeroCount + sign * b.zeroCount,
    zeroThreshold: Math.max(a.zeroThreshold, b.zeroThreshold),
    positive: add(a.positive, a.schema, b.positive, b.schema),
    negative: add(a.negative, a.schema, b.negative, b.schema),
  };
  if (a.customValues) sum.customValues = a.customValues;
  if (a.counterResetHint) sum.counterResetHint = a.counterResetHint;
  return sum;
}

// --- start timestamps (3.x) --------------------------------------------------------------------------

/** `_`, `_xN`, `<dur>`, `<dur>xN`, `<dur>±<dur>xN` items of an `@st` line; offsets in ms. */
export function parseStartOffsets(text: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  const signed = /^([+-]?)(\d+(?:ms|[ywdhms])?)/;
  for (const item of text.trim().split(/\s+/)) {
    const blanks = /^_(?:x(\d+))?$/.exec(item);
    if (blanks) {
      for (let i = 0; i < (blanks[1] === undefined ? 1 : Number(blanks[1])); i++) out.push(undefined);
      continue;
    }
    const base = signed.exec(item);
    if (!base) throw new Error(`invalid start-timestamp item ${item}`);
    const value = (m: RegExpExecArray) => (m[1] === '-' ? -1 : 1) * parseDuration(m[2]!);
    let v = value(base);
    let rest = item.slice(base[0].length);
    let step = 0;
    if (rest.startsWith('+') || rest.startsWith('-')) {
      const delta = signed.exec(rest);
      if (!delta) throw new Error(`invalid start-timestamp step in ${item}`);
      step = value(delta);
      rest = rest.slice(delta[0].length);
      if (!rest.startsWith('x')) throw new Error(`expected x<count> after the step in ${item}`);
    }
    const times = rest === '' ? 0 : /^x(\d+)$/.exec(rest)?.[1];
    if (times === undefined) throw new Error(`invalid start-timestamp item ${item}`);
    for (let i = 0; i <= Number(times); i++, v += step) out.push(v);
  }
  return out;
}

// --- commands ----------------------------------------------------------------------------------------

const LOAD = /^load(_with_nhcb)?\s+(\S+)$/i;
const EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+at\s+(\S+)\s+(.+)$/;
const EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$/;
const EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const EXPECT_RANGE_VECTOR = /^expect range vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/;

/** Parses a whole script; throws ScriptError (with the line) on anything upstream would refuse. */
export function parseScript(text: string): Command[] {
  const lines = text.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
  const commands: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const word = l.split(/[ \t]+/, 1)[0]!.toLowerCase();
    let command: Command;
    try {
      if (word === 'clear') command = { kind: 'clear', line: i + 1, endLine: i + 1 };
      else if (word.startsWith('load')) command = parseLoad(lines, i);
      else if (word.startsWith('eval')) command = parseEval(lines, i);
      else throw new ScriptError(i + 1, `invalid command ${JSON.stringify(l)}`);
    } catch (err) {
      if (err instanceof ScriptError) throw err;
      throw new ScriptError(i + 1, (err as Error).message);
    }
    commands.push(command);
    i = command.endLine - 1;
  }
  return commands;
}

/** The block of non-blank lines after line `i` (upstream ends a block at the first blank line). */
function blockAfter(lines: string[], i: number): string[] {
  const block: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j] !== ''; j++) block.push(lines[j]!);
  return block;
}

function parseLoad(lines: string[], i: number): LoadCommand {
  const m = LOAD.exec(lines[i]!);
  if (!m) throw new Error('invalid load command (load[_with_nhcb] <step:duration>)');
  const command: LoadCommand = { kind: 'load', line: i + 1, endLine: i + 1, intervalMs: parseDuration(m[2]!), withNhcb: m[1] !== undefined, series: [] };
  const block = blockAfter(lines, i);
  let pendingStart: { labels: Labels; offsets: (number | undefined)[]; line: number } | null = null;
  block.forEach((text, k) => {
    const line = i + k + 2;
    const head = text.split(/[ \t]/, 1)[0]!;
    if (head.endsWith('@st')) {
      if (pendingStart) throw new ScriptError(pendingStart.line, '@st line has no following sample line');
      const metric = head.slice(0, -3);
      const labels = metric === '' ? {} : parseSeriesDesc(`${metric} _`, line).labels;
      pendingStart = { labels, offsets: parseStartOffsets(text.slice(head.length)), line };
      return;
    }
    const series: LoadedSeries = parseSeriesDesc(text, line);
    if (pendingStart) {
      const st = pendingStart as { labels: Labels; offsets: (number | undefined)[]; line: number };
      if (labelKey(st.labels) !== labelKey(series.labels)) throw new ScriptError(st.line, '@st metric does not match the following sample line');
      if (st.offsets.length !== series.values.length) throw new ScriptError(st.line, `@st line has ${st.offsets.length} values but the sample line ${series.values.length}`);
      series.startOffsets = st.offsets;
      pendingStart = null;
    }
    command.series.push(series);
  });
  if (pendingStart) throw new ScriptError((pendingStart as { line: number }).line, '@st line has no following sample line');
  command.endLine = i + 1 + block.length;
  return command;
}

function parseEval(lines: string[], i: number): EvalCommand {
  const header = lines[i]!;
  const instant = EVAL_INSTANT.exec(header);
  const range = instant ? null : EVAL_RANGE.exec(header);
  if (!instant && !range) throw new Error(`invalid evaluation command ${JSON.stringify(header)}`);
  const command: EvalCommand = instant
    ? { kind: 'eval', line: i + 1, endLine: i + 1, expr: instant[3]!, query: { type: 'instant', timeMs: parseDuration(instant[2]!) }, modifier: (instant[1] ?? null) as EvalCommand['modifier'], expectations: [], expected: { kind: 'series', series: [] } }
    : {
      kind: 'eval', line: i + 1, endLine: i + 1, expr: range![5]!, modifier: (range![1] ?? null) as EvalCommand['modifier'], expectations: [], expected: { kind: 'series', series: [] },
      query: { type: 'range', startMs: parseDuration(range![2]!), endMs: parseDuration(range![3]!), stepMs: parseDuration(range![4]!) },
    };
  const block = blockAfter(lines, i);
  let used = 0;
  for (const [k, text] of block.entries()) {
    const line = i + k + 2;
    used = k + 1;
    const failMatch = /^expected_fail_(message|regexp)(?:\s+(.*))?$/.exec(text);
    if (failMatch && command.modifier === 'fail') {
      command.failMatch = { kind: failMatch[1] === 'message' ? 'msg' : 'regex', text: (failMatch[2] ?? '').trim() };
      break; // upstream stops reading the block here
    }
    const rangeVector = EXPECT_RANGE_VECTOR.exec(text);
    if (rangeVector) {
      command.rangeVector = { startMs: parseDuration(rangeVector[1]!), endMs: parseDuration(rangeVector[2]!), stepMs: parseDuration(rangeVector[3]!) };
      continue;
    }
    if (text.startsWith('expect string')) {
      const literal = text.slice('expect string'.length).trim();
      if (!/^(?:"(?:[^"\\]|\\.)*"|`[^`]*`)$/.test(literal)) throw new ScriptError(line, 'expect string needs a quoted string literal');
      command.expected = { kind: 'string', value: unquote(literal) };
      continue;
    }
    if (text.split(' ', 1)[0] === 'expect') {
      const m = EXPECT.exec(text);
      if (!m) throw new ScriptError(line, `invalid expect line ${JSON.stringify(text)}`);
      command.expectations.push(m[2] ? { type: m[1] as ExpectationType, match: { kind: m[2] as 'msg' | 'regex', text: m[3]!.trim() } } : { type: m[1] as ExpectationType });
      continue;
    }
    const scalar = parseGoNumber(text);
    if (scalar !== null) {
      command.expected = { kind: 'scalar', value: scalar };
      break; // upstream stops reading the block after a scalar
    }
    const series = parseSeriesDesc(text, line);
    if (series.values.length > 1 && command.query.type === 'instant' && !command.rangeVector) {
      throw new ScriptError(line, 'multiple values in an instant evaluation need `expect range vector`');
    }
    if (command.expected.kind === 'series') command.expected.series.push(series);
  }
  command.endLine = i + 1 + used;
  return command;
}

/** A canonical key of a label set (sorted names). */
export function labelKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

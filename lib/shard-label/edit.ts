// The shard label in collectors' answers: the one rule for series that already carry it, and the
// streaming editor that applies it to a query answer as the bytes go through, without parsing the
// answer into objects (large query_range answers are the common case).
import type { ChunkEditor } from '../collectors/checked-body.ts';
import { sortedLabels, type LabelSet } from '../labelsets.ts';

/**
 * The labels that stand for the shard label in a series of shard `shard`, given the value of the
 * shard label the collector's own series carries (relabelling, federation), if any. The current
 * rule, until issue 12 decides the final one: the router's value wins, the collector's is dropped.
 * Every path (streamed answers, answers the router parses, series, exemplars, alerts) applies it
 * through this function, so changing the rule is changing this function.
 */
export function shardLabelPairs(label: string, shard: string, _collectorValue: string | undefined): [string, string][] {
  return [[label, shard]];
}

/** A parsed label set with the shard label applied by the rule (shardLabelPairs), keys sorted. */
export function withShardLabel(labels: LabelSet, label: string, shard: string): LabelSet {
  const { [label]: collectorValue, ...others } = labels;
  const out: LabelSet = others;
  for (const [name, value] of shardLabelPairs(label, shard, collectorValue)) out[name] = value;
  return sortedLabels(out);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Bytes that matter inside a value the editor skips: strings and nesting. */
const SKIP_STOPS = new Uint8Array(256);
for (const b of [QUOTE, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET]) SKIP_STOPS[b] = 1;
/** JSON's whitespace: space, tab, line feed, carriage return. */
const WHITESPACE = new Uint8Array(256);
for (const b of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[b] = 1;

/** Where a container sits in a query answer: `{"status":…,"data":{"resultType":…,"result":[{"metric":{…},…}]}}`. */
type Role = 'envelope' | 'data' | 'result' | 'series' | 'metric';

interface Frame {
  readonly role: Role;
  readonly object: boolean;
  /** In an object: the next string is a key (after `{` or `,`), not a value. */
  expectKey: boolean;
  /** The key of the member being read. */
  key: string | null;
}

/** Strings longer than this are never a key or value the editor looks at (the shard label's key aside). */
const MAX_CAPTURE = 256;
/** The collector's own value of the shard label, passed to the rule, is read up to this length. */
const MAX_COLLECTOR_VALUE = 64 * 1024;

const RESULT_TYPES = new Set(['matrix', 'vector', 'scalar', 'string']);

/**
 * Reads a collector's query answer as it streams, for any valid JSON (whitespace anywhere, keys in any
 * order, escaped spellings): it checks the envelope's head (`status` "success", a known `resultType`,
 * `result` an array) and, given a shard, applies the shard label rule to the label set of every series
 * of `data.result`, inserting the router's pairs at the end of each `metric` object and dropping the
 * collector's own shard label. Output is views of the input around the edits: no copies of the answer.
 */
export class QueryAnswerEditor implements ChunkEditor {
    /** The encoded pairs for series without a shard label of their own, the common case. */
  private readonly plainPairs: Buffer | null;
  private readonly frames: Frame[] = [];
  private captureFrom = 0;
  /** Depth inside a value the editor does not look into (0: at a tracked level). */
  private skipDepth = 0;
  private inString = false;
  private escaped = false;
  /** The string being read is captured: a key or a value the editor needs. */
  private capturing = false;
  private captured: Buffer[] = [];
  private capturedLength = 0;
  private captureLimit = MAX_CAPTURE;

  // The answer's head, as far as it has been read.
  private status: string | null = null;
  private resultType: string | null = null;
  private resultKind: string | null = null;
  private structureProblem: string | null = null;

  // The label set being edited (the innermost `metric` object).
  private members = 0;
  private lastWasComma = false;
  private collectorValue: string | undefined;
  /** A key of the label set is being read and held back until it is known not to be the shard label. */
  private holding = false;
  private held: Buffer[] = [];
  private holdStart = 0;
  /** The collector's shard label member is being dropped, up to and including its comma. */
  private dropping = false;

  // The chunk being read.
  private chunk: Buffer = Buffer.alloc(0);
  private emitFrom = 0;
  private out: Buffer[] = [];

  /** The longest key worth capturing: the shard label with every character escaped (`\\u0063`) still fits. */
  private readonly keyLimit: number;

  constructor(private readonly label: string | null, private readonly shard: string | null) {
    this.keyLimit = Math.max(MAX_CAPTURE, 12 * (label?.length ?? 0));
    this.plainPairs = label === null || shard === null ? null : encodePairs(shardLabelPairs(label, shard, undefined));
  }

  /** Whether it edits the answer (given a shard), or only checks its head. */
  get changes(): boolean {
    return this.plainPairs !== null;
  }

  /** A problem with the answer's structure found so far, or null. */
  get problem(): string | null {
    if (this.structureProblem !== null) return this.structureProblem;
    if (this.status !== null && this.status !== 'success') return `status ${JSON.stringify(this.status)} in a 2xx answer`;
    if (this.resultType !== null && !RESULT_TYPES.has(this.resultType)) return `unknown resultType ${JSON.stringify(this.resultType)}`;
    if (this.resultKind !== null && this.resultKind !== 'array') return '"result" is not an array';
    return null;
  }

  /** Whether the head has been read whole: a success status, a known result type, an array of results. */
  get headChecked(): boolean {
    return this.problem === null && this.status !== null && this.resultType !== null && this.resultKind !== null;
  }

  push(chunk: Buffer): Buffer[] {
    this.chunk = chunk;
    this.out = [];
    this.emitFrom = 0;
    this.holdStart = 0;
    // A string that goes on from the previous chunk goes on from this one's start.
    this.captureFrom = 0;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        i = this.readString(i);
        continue;
      }
      if (this.skipDepth > 0) {
        i = this.skip(i);
        continue;
      }
      const c = chunk[i]!;
      if (WHITESPACE[c] === 1) {
        i++;
        continue;
      }
      const frame = this.frames.at(-1);
      if (c === QUOTE) {
        this.startString(frame, i);
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.open(frame, c === OPEN_BRACE);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.close(frame, i);
      } else if (c === COMMA) {
        this.comma(frame, i);
      } else if (c === COLON) {
        if (frame !== undefined) frame.expectKey = false;
      } else {
        // A number, true, false or null: a value where it starts.
        this.valueStarts(frame, 'scalar');
        i = this.skipScalar(i);
        continue;
      }
      i++;
    }
    if (this.holding) {
      this.held.push(Buffer.from(chunk.subarray(this.holdStart)));
    } else if (!this.dropping && this.emitFrom < n) {
      this.out.push(chunk.subarray(this.emitFrom));
    }
    return this.out;
  }

  end(): Buffer {
    // Only a truncated answer ends with a key still held back; JSON.parse or the client reports it.
    return Buffer.concat(this.held);
  }

  // --- tokens at the tracked levels -----------------------------------------------------------------

  private startString(frame: Frame | undefined, i: number): void {
    this.inString = true;
    this.escaped = false;
    const isKey = frame !== undefined && frame.object && frame.expectKey;
    if (!isKey) this.valueStarts(frame, 'string');
    // Keys of tracked objects, and the values of the few members the editor reads.
    const wanted = isKey || (frame !== undefined && (
      (frame.role === 'envelope' && frame.key === 'status') || (frame.role === 'data' && frame.key === 'resultType') ||
      (frame.role === 'metric' && this.dropping)));
    this.capturing = wanted;
    this.captured = [];
    this.capturedLength = 0;
    this.captureLimit = frame?.role === 'metric' && !isKey ? MAX_COLLECTOR_VALUE : this.keyLimit;
    if (isKey && frame.role === 'metric' && this.plainPairs !== null) {
      // Held back until it is known whether this is the collector's own shard label.
      this.emit(i);
      this.holding = true;
      this.holdStart = i;
    }
    if (wanted) this.captureFrom = i + 1;
  }

  /** Reads string content from `i`; returns the index after the closing quote, or the chunk's end. */
  private readString(i: number): number {
    const chunk = this.chunk;
    const n = chunk.length;
    // A chunk that ended inside an escape sequence: its next byte is escaped.
    const from = this.escaped ? i + 1 : i;
    this.escaped = false;
    const q = from < n ? closingQuote(chunk, from) : -1;
    if (this.capturing) this.capture(this.captureFrom, q === -1 ? n : q);
    if (q === -1) {
      this.escaped = from < n ? endsInEscape(chunk, from) : from > n;
      // A key held back that has grown too long to be the shard label goes out after all.
      if (this.holding && this.capturedLength > this.captureLimit) this.release();
      return n;
    }
    this.inString = false;
    this.endString();
    return q + 1;
  }

  private capture(from: number, to: number): void {
    if (to <= from || this.capturedLength > this.captureLimit) return;
    this.captured.push(this.chunk.subarray(from, to));
    this.capturedLength += to - from;
  }

  /** The captured string, decoded; null when it was too long to be captured. */
  private capturedText(): string | null {
    if (this.capturedLength > this.captureLimit) return null;
    const raw = this.captured.length === 1 ? this.captured[0]! : Buffer.concat(this.captured);
    this.captured = [];
    return raw.includes(BACKSLASH) ? JSON.parse(`"${raw.toString('utf8')}"`) as string : raw.toString('utf8');
  }

  private endString(): void {
    const frame = this.frames.at(-1);
    if (!this.capturing || frame === undefined) return;
    this.capturing = false;
    const text = this.capturedText();
    if (frame.object && frame.expectKey) {
      frame.key = text;
      frame.expectKey = false;
      if (frame.role === 'metric' && this.holding) {
        if (text === this.label) this.startDropping();
        else this.release();
      }
      return;
    }
    if (frame.role === 'envelope' && frame.key === 'status') this.status = text ?? '';
    else if (frame.role === 'data' && frame.key === 'resultType') this.resultType = text ?? '';
    else if (frame.role === 'metric' && this.dropping) this.collectorValue = text ?? undefined;
  }

  private valueStarts(frame: Frame | undefined, kind: 'string' | 'object' | 'array' | 'scalar'): void {
    if (frame === undefined) {
      if (kind !== 'object') this.structureProblem = 'the answer is not a JSON object';
      return;
    }
    if (frame.role === 'data' && frame.key === 'result') this.resultKind = kind;
    else if (frame.role === 'series' && frame.key === 'metric' && kind !== 'object') this.structureProblem = '"metric" is not an object';
    else if (frame.role === 'metric' && kind !== 'string') this.structureProblem = 'a label value is not a string';
  }

  private open(frame: Frame | undefined, object: boolean): void {
    this.valueStarts(frame, object ? 'object' : 'array');
    const role = childRole(frame, object);
    if (role === null) {
      this.skipDepth = 1;
      return;
    }
    if (role === 'metric') {
      this.members = 0;
      this.lastWasComma = false;
      this.collectorValue = undefined;
    }
    this.frames.push({ role, object, expectKey: object, key: null });
  }

  private close(frame: Frame | undefined, i: number): void {
    if (frame === undefined) return;
    if (frame.role === 'metric' && this.plainPairs !== null) {
      if (this.dropping) {
        this.dropping = false;
        this.emitFrom = i;
      }
      this.insertPairs(i);
    }
    this.frames.pop();
  }

  private comma(frame: Frame | undefined, i: number): void {
    if (frame === undefined) return;
    if (frame.object) {
      frame.expectKey = true;
      frame.key = null;
    }
    if (frame.role !== 'metric') return;
    if (this.dropping) {
      // The dropped member's comma goes with it.
      this.dropping = false;
      this.emitFrom = i + 1;
      return;
    }
    this.lastWasComma = true;
  }

  // --- the edits ------------------------------------------------------------------------------------

  /** Output so far, up to `i`. */
  private emit(i: number): void {
    if (i > this.emitFrom) this.out.push(this.chunk.subarray(this.emitFrom, i));
    this.emitFrom = i;
  }

  /** A held-back key is not the shard label: out it goes, and the member counts as kept. */
  private release(): void {
    this.holding = false;
    for (const piece of this.held) this.out.push(piece);
    this.held = [];
    this.emitFrom = this.holdStart;
    this.members++;
    this.lastWasComma = false;
  }

  /** A held-back key is the shard label: it, its value and its comma are left out. */
  private startDropping(): void {
    this.holding = false;
    this.held = [];
    this.dropping = true;
  }

  /** The rule's pairs before the label set's closing brace, with a comma where one is needed. */
  private insertPairs(i: number): void {
    this.emit(i);
    const pairs = this.collectorValue === undefined
      ? this.plainPairs!
      : encodePairs(shardLabelPairs(this.label!, this.shard!, this.collectorValue));
    if (this.members > 0 && !this.lastWasComma) this.out.push(COMMA_BYTES);
    this.out.push(pairs);
    this.collectorValue = undefined;
  }

  // --- values the editor does not look into ---------------------------------------------------------

  /** Reads on inside a skipped value; returns where it (or the chunk) ends. The hot loop of large answers. */
  private skip(i: number): number {
    const chunk = this.chunk;
    const n = chunk.length;
    let depth = this.skipDepth;
    let j = i;
    while (j < n) {
      const c = chunk[j]!;
      if (SKIP_STOPS[c] === 0) {
        j++;
      } else if (c === QUOTE) {
        const q = closingQuote(chunk, j + 1);
        if (q === -1) {
          // The string goes on in the next chunk, maybe right after a backslash.
          this.skipDepth = depth;
          this.inString = true;
          this.capturing = false;
          this.escaped = endsInEscape(chunk, j + 1);
          return n;
        }
        j = q + 1;
      } else {
        if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (--depth === 0) {
          this.skipDepth = 0;
          return j + 1;
        }
        j++;
      }
    }
    this.skipDepth = depth;
    return n;
  }

  /** A number or literal at a tracked level ends before the next delimiter. */
  private skipScalar(i: number): number {
    const chunk = this.chunk;
    let j = i;
    while (j < chunk.length) {
      const c = chunk[j]!;
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || WHITESPACE[c] === 1) break;
      j++;
    }
    return j;
  }
}

const COMMA_BYTES = Buffer.from(',');

function encodePairs(pairs: readonly [string, string][]): Buffer {
  return Buffer.from(pairs.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(','));
}

/** The role of a container opening in `frame` (at its current key or as an element), null if untracked. */
function childRole(frame: Frame | undefined, object: boolean): Role | null {
  if (frame === undefined) return object ? 'envelope' : null;
  switch (frame.role) {
    case 'envelope': return object && frame.key === 'data' ? 'data' : null;
    case 'data': return !object && frame.key === 'result' ? 'result' : null;
    case 'result': return object ? 'series' : null;
    case 'series': return object && frame.key === 'metric' ? 'metric' : null;
    case 'metric': return null;
  }
}

/** The index of the quote that closes a string whose content continues at `from`; -1 if not in this chunk. */
function closingQuote(chunk: Buffer, from: number): number {
  let q = chunk.indexOf(QUOTE, from);
  while (q !== -1) {
    // Escaped when preceded by an odd run of backslashes (`\\"` closes, `\"` does not).
    let k = q - 1;
    while (k >= from && chunk[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    q = chunk.indexOf(QUOTE, q + 1);
  }
  return -1;
}

/** Whether string content from `from` to the chunk's end stops in the middle of an escape sequence. */
function endsInEscape(chunk: Buffer, from: number): boolean {
  let k = chunk.length - 1;
  while (k >= from && chunk[k] === BACKSLASH) k--;
  return (chunk.length - 1 - k) % 2 === 1;
}

// The shard label in collectors' answers: the one rule for series that already carry it, and the
// streaming editor that applies it to a query answer as the bytes go through, without parsing the
// answer into objects (large query_range answers are the common case).
//
// The rule (Mimir's tenant federation's): the shard label of every series is the router's, the name
// of the shard the series came from. A collector's own value of it (relabelling, federation,
// kube-state-metrics with a cluster label) is kept as `original_<label>`. So `cluster="a"` selects
// shard a's series, all of them, as a Grafana `$cluster` variable means; the collector's own label
// stays readable and selectable as `original_cluster`. A collector's own `original_<label>` is not
// shown (the name means the collector's `<label>`; the rule is not applied twice).
//
// Queries sent to collectors speak the collectors' names (lib/promql/rewrite.ts): the router's shard
// label is SHARD_LABEL_ON_COLLECTORS there, `original_<label>` is `<label>`. Answers are translated back
// here, so a collector computes exactly what the global Prometheus would, in its own names.
import type { ChunkEditor } from '../collectors/checked-body.ts';
import { sortedLabels, type LabelSet } from '../labelsets.ts';
import { originalLabel, SHARD_LABEL_ON_COLLECTORS, translatedLabels } from '../shards/shard-label-names.ts';

/** What a collector's label set holds of the names the rule translates. */
export interface CollectorShardLabels {
  /** The collector's own value of the shard label. */
  readonly own: string | undefined;
  /** The shard label as the collector attached it itself (SHARD_LABEL_ON_COLLECTORS). */
  readonly attached: string | undefined;
}

/**
 * The labels that stand, in the global Prometheus's answer, for a collector series' shard labels: the
 * shard label (`shard`, where the router adds it, else the value the collector attached, if any), then
 * `original_<label>` where the collector's series had a value of its own. Every path (streamed answers,
 * unions, the engine's leaves, series, exemplars, alerts) applies the rule through this function.
 */
export function shardLabelPairs(label: string, shard: string | null, found: CollectorShardLabels): [string, string][] {
  const pairs: [string, string][] = [];
  const value = shard ?? found.attached;
  if (value !== undefined) pairs.push([label, value]);
  if (found.own !== undefined) pairs.push([originalLabel(label), found.own]);
  return pairs;
}

/**
 * A collector's parsed label set as the global Prometheus shows it (the rule: shardLabelPairs), keys
 * sorted; `shard` is the shard label value the router adds, null where the answer is exact as is.
 */
export function withShardLabel(labels: LabelSet, label: string, shard: string | null): LabelSet {
  const { [label]: own, [originalLabel(label)]: _ownOriginal, [SHARD_LABEL_ON_COLLECTORS]: attached, ...others } = labels;
  const out: LabelSet = others;
  for (const [name, value] of shardLabelPairs(label, shard, { own, attached })) out[name] = value;
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
 * `result` an array) and, given the shard label, applies the rule to the label set of every series of
 * `data.result`: the members it translates are left out where they stand and the rule's pairs (with
 * the shard label value `shard` where the router adds it) go at the end of each `metric` object. The
 * members' commas are written anew, so any member can be left out. Output is views of the input around
 * the edits: no copies of the answer.
 */
export class QueryAnswerEditor implements ChunkEditor {
  /** The encoded pairs for series with none of the translated labels, the common case. */
  private readonly plainPairs: Buffer | null;
  private readonly originalName: string | null;
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
  /** Members of the label set passed on so far. */
  private members = 0;
  private found: { own: string | undefined; attached: string | undefined } = { own: undefined, attached: undefined };
  /** A key of the label set is being read and held back until it is known not to be translated. */
  private holding = false;
  private held: Buffer[] = [];
  private holdStart = 0;
  /** A translated member is being left out (its key's name), up to its comma. */
  private dropping: string | null = null;

  // The chunk being read.
  private chunk: Buffer = Buffer.alloc(0);
  private emitFrom = 0;
  private out: Buffer[] = [];

  /** The longest key worth capturing: the shard label with every character escaped (`\\u0063`) still fits. */
  private readonly keyLimit: number;

  /** `label`: the shard label (null: check the head only); `shard`: the value the router adds, if any. */
  constructor(private readonly label: string | null, private readonly shard: string | null) {
    this.originalName = label === null ? null : originalLabel(label);
    this.keyLimit = Math.max(MAX_CAPTURE, 12 * Math.max(this.originalName?.length ?? 0, SHARD_LABEL_ON_COLLECTORS.length));
    this.plainPairs = label === null ? null : encodePairs(shardLabelPairs(label, shard, NOTHING_FOUND));
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
    } else if (this.dropping === null && this.emitFrom < n) {
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
      (frame.role === 'metric' && this.dropping !== null)));
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
        if (text !== null && translatedLabels(this.label!).includes(text)) this.startDropping(text);
        else this.release();
      }
      return;
    }
    if (frame.role === 'envelope' && frame.key === 'status') this.status = text ?? '';
    else if (frame.role === 'data' && frame.key === 'resultType') this.resultType = text ?? '';
    else if (frame.role === 'metric' && this.dropping !== null) {
      if (this.dropping === this.label) this.found.own = text ?? undefined;
      else if (this.dropping === SHARD_LABEL_ON_COLLECTORS) this.found.attached = text ?? undefined;
    }
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
      this.found = { own: undefined, attached: undefined };
    }
    this.frames.push({ role, object, expectKey: object, key: null });
  }

  private close(frame: Frame | undefined, i: number): void {
    if (frame === undefined) return;
    if (frame.role === 'metric' && this.plainPairs !== null) {
      if (this.dropping !== null) {
        this.dropping = null;
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
    if (frame.role !== 'metric' || this.plainPairs === null) return;
    // Commas between members are written anew before the next member passed on (release): a member
    // left out takes none with it, wherever it stands.
    if (this.dropping === null) this.emit(i);
    this.dropping = null;
    this.emitFrom = i + 1;
  }

  // --- the edits ------------------------------------------------------------------------------------

  /** Output so far, up to `i`. */
  private emit(i: number): void {
    if (i > this.emitFrom) this.out.push(this.chunk.subarray(this.emitFrom, i));
    this.emitFrom = i;
  }

  /** A held-back key is not translated: out it goes after a comma where it follows another member. */
  private release(): void {
    this.holding = false;
    if (this.members > 0) this.out.push(COMMA_BYTES);
    for (const piece of this.held) this.out.push(piece);
    this.held = [];
    this.emitFrom = this.holdStart;
    this.members++;
  }

  /** A held-back key is translated: it and its value are left out (the value read for the rule). */
  private startDropping(name: string): void {
    this.holding = false;
    this.held = [];
    this.dropping = name;
  }

  /** The rule's pairs before the label set's closing brace, with a comma where one is needed. */
  private insertPairs(i: number): void {
    this.emit(i);
    const found = this.found;
    const pairs = found.own === undefined && found.attached === undefined
      ? this.plainPairs!
      : encodePairs(shardLabelPairs(this.label!, this.shard, found));
    if (pairs.length > 0) {
      if (this.members > 0) this.out.push(COMMA_BYTES);
      this.out.push(pairs);
    }
    this.found = { own: undefined, attached: undefined };
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
const NOTHING_FOUND: CollectorShardLabels = { own: undefined, attached: undefined };

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

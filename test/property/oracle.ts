// The test side's own reading of a query, written independently of lib/promql: the lezer grammar is
// the judge of syntax, string literals are decoded as Prometheus's lexer and strutil.Unquote decode
// them (to bytes: `\xff` is a byte, not a character), regexes are RE2 (re2js) matched against the
// whole value, as Prometheus 2.42's FastRegexMatcher does. Nothing here imports lib/.
import type { SyntaxNode, Tree } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { RE2JS } from 're2js';

export const SHARD_LABEL = 'cluster';

export type Op = '=' | '!=' | '=~' | '!~';

const OPS: Record<string, Op> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/** A decoded string literal: its bytes, and the string if those bytes are valid UTF-8. */
export interface Decoded {
  readonly bytes: Uint8Array;
  /** null when the bytes are not valid UTF-8 (only `\x` and octal escapes can produce that). */
  readonly text: string | null;
}

export interface OracleMatcher {
  readonly name: string;
  readonly op: Op;
  readonly value: Decoded;
  /** The matcher as written, byte for byte. */
  readonly source: string;
  readonly from: number;
  readonly to: number;
}

export interface OracleSelector {
  readonly from: number;
  readonly to: number;
  /** The metric name before the braces or as a lone quoted name inside them (decoded). */
  readonly metricName: string | null;
  readonly matchers: readonly OracleMatcher[];
  /** Positions of `{` and `}` (the LabelMatchers node), if the selector has braces. */
  readonly braces: { readonly from: number; readonly to: number } | null;
}

export class LiteralError extends Error {}

// --- syntax --------------------------------------------------------------------------------------

// The same texts are read several times per case (judge, selectors, normalisation): keep a few trees.
const trees = new Map<string, Tree>();

export function lezerTree(text: string): Tree {
  let tree = trees.get(text);
  if (tree === undefined) {
    tree = parser.parse(text);
    if (trees.size >= 64) trees.clear();
    trees.set(text, tree);
  }
  return tree;
}

/**
 * Queries the lezer grammar refuses although Prometheus may accept them (functions it does not
 * know, such as 2.x's holt_winters; numbers like `1.`; long chains): its error recovery reads other
 * selectors into them, so the oracle does not judge them (the router's reading of those is judged by
 * the generator's intent and by Prometheus itself in stays-valid-promtool.test.ts).
 */
export const oracleGaps = { count: 0, examples: [] as string[] };

/** Whether the oracle can read the text (the lezer grammar accepts it); counts the gap if not. */
export function oracleReads(text: string): boolean {
  if (lezerAccepts(text)) return true;
  oracleGaps.count++;
  if (oracleGaps.examples.length < 3) oracleGaps.examples.push(text);
  return false;
}

/** The lezer grammar accepts the text as one PromQL expression (comments aside). */
export function lezerAccepts(text: string): boolean {
  const tree = lezerTree(text);
  let error = false;
  tree.iterate({ enter: (n) => { if (n.type.isError) error = true; return !error; } });
  if (error) return false;
  let expressions = 0;
  for (let c = tree.topNode.firstChild; c !== null; c = c.nextSibling) if (c.type.name !== 'LineComment') expressions++;
  return expressions === 1;
}

function kids(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

function kid(node: SyntaxNode, name: string): SyntaxNode | undefined {
  return kids(node).find((c) => c.type.name === name);
}

/** Every node of a type, in document order. */
export function nodesOfType(tree: Tree, name: string): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  tree.iterate({ enter: (n) => { if (n.type.name === name) out.push(n.node); } });
  return out;
}

/**
 * The selectors of a query in text order, decoded by the test's own rules. Throws LiteralError when a
 * string literal in a selector does not decode (Prometheus's lexer would reject the query).
 */
export function oracleSelectors(text: string): OracleSelector[] {
  return nodesOfType(lezerTree(text), 'VectorSelector').map((node) => {
    const id = kid(node, 'Identifier');
    let metricName = id === undefined ? null : text.slice(id.from, id.to);
    const braces = kid(node, 'LabelMatchers');
    const matchers: OracleMatcher[] = [];
    for (const item of braces === undefined ? [] : kids(braces)) {
      if (item.type.name === 'QuotedLabelName') {
        metricName = nameText(decodeLiteral(text.slice(item.from, item.to)));
        continue;
      }
      if (item.type.name !== 'UnquotedLabelMatcher' && item.type.name !== 'QuotedLabelMatcher') continue;
      const nameNode = kid(item, 'LabelName') ?? kid(item, 'QuotedLabelName')!;
      const opNode = kid(item, 'MatchOp')!.firstChild!;
      const valueNode = kid(item, 'StringLiteral')!;
      const rawName = text.slice(nameNode.from, nameNode.to);
      matchers.push({
        name: nameNode.type.name === 'LabelName' ? rawName : nameText(decodeLiteral(rawName)),
        op: OPS[opNode.type.name]!,
        value: decodeLiteral(text.slice(valueNode.from, valueNode.to)),
        source: text.slice(item.from, item.to),
        from: item.from,
        to: item.to,
      });
    }
    return {
      from: node.from, to: node.to, metricName, matchers,
      braces: braces === undefined ? null : { from: braces.from, to: braces.to },
    };
  });
}

/**
 * A quoted name's text. Prometheus 3 takes any bytes for a quoted label or metric name (it checks
 * only grouping labels); a name that is not valid UTF-8 is none a shard label or series can have.
 */
function nameText(d: Decoded): string {
  return d.text ?? new TextDecoder().decode(d.bytes);
}

// --- string literals -----------------------------------------------------------------------------

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a PromQL string literal as Prometheus does: the lexer's escape rules (`\a \b \f \n \r \t
 * \v \\`, the literal's own quote, `\xHH`, `\OOO` up to 255, `\uHHHH`, `\UHHHHHHHH` that are Unicode
 * scalar values), no raw newline in quoted strings, no raw U+FFFD anywhere (the lexer's "invalid
 * UTF-8 rune"), raw strings otherwise taken as they are.
 */
export function decodeLiteral(literal: string): Decoded {
  const q = literal[0];
  if (literal.length < 2 || literal.at(-1) !== q) throw new LiteralError(`unterminated: ${literal}`);
  const body = literal.slice(1, -1);
  // Prometheus's lexer reads U+FFFD in a string as a decoding error, even where it is written as such.
  if (body.includes('\uFFFD')) throw new LiteralError('invalid UTF-8 rune');
  if (q === '`') {
    if (body.includes('`')) throw new LiteralError('backquote inside raw string');
    return { bytes: utf8.encode(body), text: body };
  }
  if (q !== '"' && q !== "'") throw new LiteralError(`not a string: ${literal}`);
  if (body.includes('\n')) throw new LiteralError('newline in quoted string');
  const out: number[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === q) throw new LiteralError('unescaped quote');
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      if (cp >= 0xd800 && cp < 0xe000) throw new LiteralError('lone surrogate in source');
      const ch = String.fromCodePoint(cp);
      out.push(...utf8.encode(ch));
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a': out.push(7); break;
      case 'b': out.push(8); break;
      case 'f': out.push(12); break;
      case 'n': out.push(10); break;
      case 'r': out.push(13); break;
      case 't': out.push(9); break;
      case 'v': out.push(11); break;
      case '\\': out.push(92); break;
      case '"': case "'":
        if (e !== q) throw new LiteralError(`\\${e} in a ${q}-quoted string`);
        out.push(e.charCodeAt(0));
        break;
      case 'x': out.push(digits(body, i, 2, 16, 255)); i += 2; break;
      case 'u': case 'U': {
        const n = e === 'u' ? 4 : 8;
        const cp = digits(body, i, n, 16, 0x10ffff);
        if (cp >= 0xd800 && cp < 0xe000) throw new LiteralError('surrogate code point');
        out.push(...utf8.encode(String.fromCodePoint(cp)));
        i += n;
        break;
      }
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          out.push(digits(body, i - 1, 3, 8, 255));
          i += 2;
          break;
        }
        throw new LiteralError(`unknown escape \\${e ?? ''}`);
    }
  }
  const bytes = Uint8Array.from(out);
  let text: string | null;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = null;
  }
  return { bytes, text };
}

function digits(s: string, at: number, n: number, radix: 8 | 16, max: number): number {
  const part = s.slice(at, at + n);
  const ok = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
  if (part.length !== n || !ok.test(part)) throw new LiteralError(`bad digits ${part}`);
  const v = parseInt(part, radix);
  if (v > max) throw new LiteralError(`escape value ${v} > ${max}`);
  return v;
}

// --- matching ------------------------------------------------------------------------------------

const regexCache = new Map<string, RE2JS | Error>();

/**
 * The matcher's regex as Prometheus 2.42 compiles it: the pattern must parse on its own (so
 * `a)|(b` is rejected) and be valid UTF-8; it is matched against the whole label value.
 */
export function regexOf(value: Decoded): RE2JS | Error {
  if (value.text === null) return new Error('invalid UTF-8 in regexp');
  let re = regexCache.get(value.text);
  if (re === undefined) {
    try {
      re = RE2JS.compile(value.text);
    } catch (err) {
      re = err as Error;
    }
    if (regexCache.size > 4096) regexCache.clear();
    regexCache.set(value.text, re);
  }
  return re;
}

/** Whether a matcher accepts a label value (`""` for a missing label), with Prometheus semantics. */
export function accepts(m: Pick<OracleMatcher, 'op' | 'value'>, labelValue: string): boolean {
  if (m.op === '=' || m.op === '!=') {
    const equal = m.value.text !== null && m.value.text === labelValue;
    return m.op === '=' ? equal : !equal;
  }
  const re = regexOf(m.value);
  if (re instanceof Error) throw re;
  // RE2JS#matches is a whole-input match (Java's Matcher.matches), i.e. fully anchored.
  const full = re.matches(labelValue);
  return m.op === '=~' ? full : !full;
}

/** The shards a selector can read on a global Prometheus: all its shard-label matchers accept the name. */
export function expectedShards(selector: { readonly matchers: readonly Pick<OracleMatcher, 'name' | 'op' | 'value'>[] }, shards: readonly string[]): string[] {
  const own = selector.matchers.filter((m) => m.name === SHARD_LABEL);
  return shards.filter((s) => own.every((m) => accepts(m, s)));
}

/** Prometheus rejects a selector whose matchers (the metric name counts as `__name__=`) all match "". */
export function selectsSomethingNamed(selector: OracleSelector): boolean {
  if (selector.metricName !== null && selector.metricName !== '') return true;
  return selector.matchers.some((m) => !accepts(m, ''));
}

/** Every regex matcher of the query compiles as Prometheus compiles it. */
export function regexErrors(selectors: readonly OracleSelector[]): string[] {
  const out: string[] = [];
  for (const s of selectors) {
    for (const m of s.matchers) {
      if (m.op !== '=~' && m.op !== '!~') continue;
      const re = regexOf(m.value);
      if (re instanceof Error) out.push(`${m.source}: ${re.message}`);
    }
  }
  return out;
}

/** Every string literal of the query (selector values, function arguments, ...) decodes. */
export function literalErrors(text: string): string[] {
  const out: string[] = [];
  for (const node of nodesOfType(lezerTree(text), 'StringLiteral')) {
    const raw = text.slice(node.from, node.to);
    try {
      decodeLiteral(raw);
    } catch (err) {
      out.push(`${raw}: ${(err as Error).message}`);
    }
  }
  return out;
}

// --- normalisation for "the rest of the text is untouched" ----------------------------------------

/**
 * A query sent to a shard with the name collectors know the shard label by (the router's reserved
 * `__prome_route_shard__`, in label_replace wrappers, exclusions and label-name positions) read as the
 * shard label again. Exact for queries that do not name `original_cluster` (whose matchers and label
 * names the router sends as `cluster`): the properties skip those.
 */
export function asShardLabel(query: string): string {
  return query.replaceAll('__prome_route_shard__', SHARD_LABEL);
}

/**
 * Every string literal that spells the shard label (`"cluster"`, `'cl\u0075ster'`, ...) written as
 * `"cluster"`: where the router translates a label name written as a string, it writes it anew.
 */
export function plainShardLabelStrings(text: string): string {
  const cuts: { from: number; to: number }[] = [];
  for (const node of nodesOfType(lezerTree(text), 'StringLiteral')) {
    try {
      if (decodeLiteral(text.slice(node.from, node.to)).text === SHARD_LABEL) cuts.push({ from: node.from, to: node.to });
    } catch {
      // Not a literal Prometheus accepts: property 3's business.
    }
  }
  let out = text;
  for (const c of cuts.sort((a, b) => b.from - a.from)) out = `${out.slice(0, c.from)}${JSON.stringify(SHARD_LABEL)}${out.slice(c.to)}`;
  return out;
}

/** Whether a query names the shard label's original (`original_cluster`), which the router renames for collectors. */
export function namesOriginal(text: string): boolean {
  return text.includes(`original_${SHARD_LABEL}`);
}

/**
 * Removes the router's `label_replace(X, "cluster", "<v>", "", "")` wrappers (exactly as it prints
 * them) from a query, keeping X.
 */
export function stripShardWrappers(text: string): string {
  const cuts: { from: number; to: number }[] = [];
  for (const call of nodesOfType(lezerTree(text), 'FunctionCall')) {
    const id = kid(call, 'FunctionIdentifier');
    if (id === undefined || text.slice(id.from, id.to) !== 'label_replace') continue;
    const body = kid(call, 'FunctionCallBody');
    const args = body === undefined ? [] : kids(body);
    const first = args[0];
    if (first === undefined || text.slice(call.from, first.from) !== 'label_replace(') continue;
    const tail = text.slice(first.to, call.to);
    const m = /^, "cluster", ("(?:[^"\\]|\\.)*"), "", ""\)$/su.exec(tail);
    if (m === null) continue;
    // Right after a keyword (`and(x)`), the router parenthesises its wrapper: `and(label_replace(...))`.
    const parenthesised = text[call.from - 1] === '(' && text[call.to] === ')' && /[\w:]/.test(text[call.from - 2] ?? '');
    cuts.push(
      { from: parenthesised ? call.from - 1 : call.from, to: first.from },
      { from: first.to, to: parenthesised ? call.to + 1 : call.to },
    );
  }
  cuts.sort((a, b) => b.from - a.from);
  let out = text;
  for (const c of cuts) out = out.slice(0, c.from) + out.slice(c.to);
  return out;
}

/** The text with the inside of every selector's braces emptied: `up{job="x"}` → `up{}`. */
export function emptyBraces(text: string): string {
  const braces = nodesOfType(lezerTree(text), 'LabelMatchers');
  let out = text;
  for (const b of [...braces].sort((x, y) => y.from - x.from)) out = out.slice(0, b.from + 1) + out.slice(b.to - 1);
  return out;
}

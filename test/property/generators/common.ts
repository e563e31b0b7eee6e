// Pieces shared by the query generators: shard names, label values, string literal encodings,
// whitespace and comments.
import fc from 'fast-check';

/**
 * Shard names the map may hold: any non-empty valid UTF-8 string is allowed, so besides plain names
 * there are quotes, backslashes, regex metacharacters, a newline, non-BMP characters and U+FFFD.
 */
export const SHARD_POOL: readonly string[] = [
  'a', 'b', 'c', 'ab', 'A', 'eu"west\\1', 'ü', 'prod-eu-1', 'x.y', 'a|b', '日本', '😀', "it's", '`tick`',
  'a\nb', ' ', '__proto__', '$1', '\uFFFD', 'a.*',
];

/** The shard map: a non-empty subset of the pool in random order (plan.shards follows map order). */
export const shardsArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 3, arbitrary: fc.shuffledSubarray(['a', 'b', 'c'], { minLength: 1 }) },
  { weight: 4, arbitrary: fc.shuffledSubarray([...SHARD_POOL], { minLength: 1, maxLength: 6 }) },
);

/** Characters that stress decoding: quotes of all kinds, backslashes, controls, non-BMP, separators. */
const CHAR_POOL = [
  'a', 'b', 'c', 'x', '"', "'", '`', '\\', '\n', '\t', '\r', '\x00', '\x7f', 'ü', '日', '😀', '\u2028',
  '\uFFFD', '.', '*', '|', '{', '}', '(', ')', '[', ']', '=', '~', '!', ',', '#', ' ', '$', '^', '+', '?',
];

const charArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CHAR_POOL) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);

export const freeStringArb: fc.Arbitrary<string> = fc.string({ unit: charArb, maxLength: 8 });

/** Values for `=`/`!=` matchers: mostly shard names and near misses, sometimes anything. */
export const plainValueArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...SHARD_POOL, '', 'a ', 'B', 'eu"west', 'eu"west\\\\1', 'x_y', 'nope') },
  { weight: 2, arbitrary: freeStringArb },
);

// --- regexes -------------------------------------------------------------------------------------

const RE_META = /[\\.+*?()|[\]{}^$]/g;
export const escapeRegex = (s: string): string => s.replace(RE_META, '\\$&');

const reAtomArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SHARD_POOL).map(escapeRegex) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'a', 'b', 'c', 'ü', '"', "'", '`', ' ', '.', '[a-c]', '[^a]', '[abc]', '[a-]', '\\d', '\\w', '\\s', '\\pL',
      '\\p{Greek}', '\\PL', '[[:alpha:]]', '[[:^digit:]]', '\\.', '\\\\', '\\x{fc}', '\\Qa.b\\E', '(?i:A)', '\\b',
      '\\A', '\\z', '^', '$', '\\|', '\\n', '\n', '(?s:.)', '[\\x{1F600}]',
    ),
  },
);

const quantifierArb = fc.constantFrom('', '', '', '', '*', '+', '?', '{1,2}', '{0}', '*?', '+?', '{2}', '{0,}');

const { regex: regexTreeArb } = fc.letrec<{ regex: string; piece: string }>((tie) => ({
  regex: fc.array(
    fc.array(tie('piece'), { minLength: 0, maxLength: 3 }).map((p) => p.join('')),
    { minLength: 1, maxLength: 2 },
  ).map((alts) => alts.join('|')),
  piece: fc.tuple(
    fc.oneof(
      { maxDepth: 2, depthSize: 'small', withCrossShrink: true },
      reAtomArb,
      tie('regex').map((r) => `(${r})`),
      tie('regex').map((r) => `(?:${r})`),
    ),
    quantifierArb,
  ).map(([a, q]) => a + q),
}));

/** RE2 regexes (decoded matcher values): anchors, alternation, classes, flags; a few invalid ones. */
export const regexArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', '.*', '.+', 'a|b', 'a.*', 'b|', '(?i)A', 'a|b|c', '^a$', 'eu"west\\\\1', '\\pL+') },
  { weight: 8, arbitrary: regexTreeArb },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('', '(?i)', '^', '(?i)^'), regexTreeArb, fc.constantFrom('', '$', '.*')).map((p) => p.join('')) },
  // Rejected by Go's regexp (and so by Prometheus): must be a parse error, never a route.
  { weight: 1, arbitrary: fc.constantFrom('(', '[a', 'a{2,1}', '*', 'a)|(b', '\\C', '\\8', 'x{1001}', '\\p{Foo}', 'a**', '\\u00fc') },
);

// --- string literals -----------------------------------------------------------------------------

export type Quote = '"' | "'" | '`';

const hex = (n: number, width: number, upper: boolean) => {
  const s = n.toString(16).padStart(width, '0');
  return upper ? s.toUpperCase() : s;
};
const SIMPLE: Record<string, string> = { '\x07': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' };

/**
 * Writes a value as a PromQL string literal; `styles` picks, character by character, raw or one of
 * the escapes Go's syntax offers (`\n`, `\x..`, octal, `\u`, `\U`). Raw strings are used only when
 * the value has no backquote.
 */
export function encodeLiteral(value: string, quote: Quote, styles: readonly number[]): string {
  if (quote === '`' && !value.includes('`')) return `\`${value}\``;
  const q = quote === '`' ? '"' : quote;
  let out = q;
  let i = 0;
  for (const ch of value) {
    const style = styles.length === 0 ? 0 : styles[i++ % styles.length]!;
    const cp = ch.codePointAt(0)!;
    const bytes = [...new TextEncoder().encode(ch)];
    const upper = style % 2 === 1;
    const mustEscape = ch === q || ch === '\\' || ch === '\n';
    if (style <= 3 && !mustEscape) {
      out += ch;
    } else if (style <= 3) {
      out += ch === '\n' ? '\\n' : `\\${ch}`;
    } else if (style === 4 && SIMPLE[ch] !== undefined) {
      out += `\\${SIMPLE[ch]}`;
    } else if (style === 4 || style === 5) {
      out += cp <= 0xffff && style === 4 ? `\\u${hex(cp, 4, upper)}` : `\\U${hex(cp, 8, upper)}`;
    } else if (style === 6) {
      out += bytes.map((b) => `\\x${hex(b, 2, upper)}`).join('');
    } else {
      out += bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    }
  }
  return out + q;
}

export interface Literal {
  readonly text: string;
  /** The decoded value; null when the literal was deliberately broken (Prometheus rejects it). */
  readonly value: string | null;
}

/** Per-character encoding styles: 0-3 raw, 4-7 escaped (see encodeLiteral); mostly raw. */
const stylesArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant([0]) },
  { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: fc.nat(3) }, { weight: 2, arbitrary: fc.integer({ min: 4, max: 7 }) }), { minLength: 1, maxLength: 12 }) },
);
const quoteArb = fc.constantFrom<Quote>('"', '"', "'", '`');

/** Rarely: escapes Prometheus's lexer rejects (unknown, surrogate, out of range, truncated, wrong quote). */
const BROKEN_ESCAPES = ['\\q', '\\ud800', '\\400', '\\x4', '\\U00110000', "\\'", '\\u12', '\\8'];

export function literalArb(valueArb: fc.Arbitrary<string>, allowBroken = true): fc.Arbitrary<Literal> {
  const good = fc.tuple(valueArb, quoteArb, stylesArb).map(([v, q, s]): Literal => ({ text: encodeLiteral(v, q, s), value: v }));
  if (!allowBroken) return good;
  // Appended at the end, where no following character can complete the escape.
  const broken = fc.tuple(good, fc.constantFrom(...BROKEN_ESCAPES)).map(([lit, esc]): Literal => {
    const q = lit.text[0]!;
    if (q === '`' || (esc === "\\'" && q === "'")) return lit;
    return { text: lit.text.slice(0, -1) + esc + q, value: null };
  });
  return fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: broken });
}

// --- whitespace and comments ---------------------------------------------------------------------

const commentArb = fc.constantFrom(
  '# c\n', '#cluster="a"\n', '# up{cluster="b"} ` \' "\n', '#\n', '# ü 😀 label_replace(x, "cluster", "a", "", "")\n', '#}{\n',
);

/** Optional whitespace between tokens: mostly nothing or a space; sometimes newlines, tabs, comments. */
export const wsArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('') },
  { weight: 8, arbitrary: fc.constant(' ') },
  { weight: 2, arbitrary: fc.constantFrom('\n', '\t', '  ', ' \n\t ', '\r\n', '\n\n  ') },
  { weight: 1, arbitrary: commentArb.map((c) => ` ${c}`) },
);

/** Whitespace where a separator is required (between words). */
export const ws1Arb: fc.Arbitrary<string> = wsArb.map((w) => (w === '' ? ' ' : w));

import { RE2JS } from 're2js';
import { INVALID_UTF8 } from './strings.ts';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A label matcher with its value decoded, evaluated with Prometheus semantics. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

// Compiling is the costly part and dashboards repeat the same few regexes: keep a small cache.
const compiled = new Map<string, RE2JS>();
const CACHE_LIMIT = 512;

/** The fully anchored pattern; with `dotAll` (Prometheus 3.x) `.` matches a newline too. */
function compile(pattern: string, dotAll = false): RE2JS {
  const anchored = dotAll ? `^(?s:${pattern})$` : `^(?:${pattern})$`;
  let re = compiled.get(anchored);
  if (re === undefined) {
    // The parser has refused patterns Prometheus refuses (regexError below).
    re = RE2JS.compile(anchored);
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(anchored, re);
  }
  return re;
}

/**
 * Why Prometheus refuses a regex matcher's pattern, in its words, or null. 2.42 compiles the
 * anchored pattern `^(?:p)$` first (so its messages quote that), then parses the pattern alone (so
 * `a)|(b` is refused too); 3.x parses the pattern alone.
 */
export function regexError(op: MatchOp, pattern: string, major: 2 | 3): string | null {
  if (op !== '=~' && op !== '!~') return null;
  const key = `${major}${pattern}`;
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict = regexVerdict(pattern, major);
    if (verdicts.size >= CACHE_LIMIT) verdicts.clear();
    verdicts.set(key, verdict);
  }
  return verdict;
}

/** regexError's answers, by major and pattern (parsing a regex costs far more than parsing a query). */
const verdicts = new Map<string, string | null>();

function regexVerdict(pattern: string, major: 2 | 3): string | null {
  if (pattern.includes(INVALID_UTF8)) return 'error parsing regexp: invalid UTF-8';
  try {
    if (major === 2) compile(pattern);
    RE2JS.compile(pattern);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Prometheus refuses a selector all of whose matchers (the metric name counted as `__name__="..."`)
 * match the empty string: it would select every series (`{cluster!="a"}`, `{job=~".*"}`). Judged on
 * the selector as written, shard-label matchers included: those are labels of the global Prometheus.
 */
export function hasNonEmptyMatcher(matchers: readonly Matcher[]): boolean {
  return matchers.some((m) => !matches(m, ''));
}

/**
 * Whether the matcher accepts a label value; a missing label has the value "". `dotAll`: regexes as
 * Prometheus 3.x compiles them, `.` matching a newline (2.x: anything but a newline).
 */
export function matches(m: Matcher, value: string, dotAll = false): boolean {
  switch (m.op) {
    case '=': return value === m.value;
    case '!=': return value !== m.value;
    case '=~': return compile(m.value, dotAll).matches(value);
    case '!~': return !compile(m.value, dotAll).matches(value);
  }
}

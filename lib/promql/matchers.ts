import { RE2JS } from 're2js';
import { INVALID_UTF8 } from './strings.ts';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A label matcher with its value decoded, evaluated with Prometheus semantics. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export class RegexError extends Error {}

// Compiling is the costly part and dashboards repeat the same few regexes: keep a small cache.
const compiled = new Map<string, RE2JS>();
const CACHE_LIMIT = 512;

function compile(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      // Prometheus compiles the pattern on its own first (so `a)|(b` is an error, not `^(?:a)|(b)$`),
      // then anchors it at both ends: `=~"a"` matches only "a", never "ab".
      if (pattern.includes(INVALID_UTF8)) throw new Error('error parsing regexp: invalid UTF-8');
      RE2JS.compile(pattern);
      re = RE2JS.compile(`^(?:${pattern})$`);
    } catch (err) {
      throw new RegexError((err as Error).message);
    }
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** Checks that a matcher's regex compiles (RE2 syntax), throwing RegexError with Go's message if not. */
export function validateMatcher(m: Matcher): void {
  if (m.op === '=~' || m.op === '!~') compile(m.value);
}

/**
 * Prometheus refuses a selector all of whose matchers (the metric name counted as `__name__="..."`)
 * match the empty string: it would select every series (`{cluster!="a"}`, `{job=~".*"}`). Judged on
 * the selector as written, shard-label matchers included: those are labels of the global Prometheus.
 */
export function hasNonEmptyMatcher(matchers: readonly Matcher[]): boolean {
  return matchers.some((m) => !matches(m, ''));
}

/** Whether the matcher accepts a label value; a missing label has the value "". */
export function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=': return value === m.value;
    case '!=': return value !== m.value;
    case '=~': return compile(m.value).matches(value);
    case '!~': return !compile(m.value).matches(value);
  }
}

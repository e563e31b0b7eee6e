// Counterexamples the properties found in lib/, minimised by hand. Each runs first (fast-check
// `examples`) in its property's tests, so the property fails on it until lib/ is fixed; then it stays
// as a regression case. Shards are ["a", "b", "c"] unless given.
import { example, type Case } from './harness.ts';

export const KNOWN_COUNTEREXAMPLES: Record<'noCrash' | 'staysValid' | 'routing' | 'matchers' | 'untouched', Case[]> = {
  noCrash: [
    // String literals outside selectors are decoded without turning StringLiteralError into a
    // PromQLSyntaxError (Prometheus: `unknown escape sequence`, 400); the router answers 500.
    example('label_replace(up, "\\q", "", "", "")'), // forShard
    example('up + "\\q"'), // compileQuery
    // An aggregation without arguments: compileQuery reads `undefined.from` (TypeError, 500).
    example('up + sum()'),
    // PromQL 3 number and duration syntax the grammar accepts reaches parseDurationParam, whose
    // ApiError ('invalid parameter "number"' / "range") is not a query error.
    example('sum(up) > 1_000'),
    example('max_over_time(sum(up)[5m*2:])'),
  ],
  staysValid: [
    // A query that starts with a comment: parsePromQL takes the LineComment for the expression
    // ("no expression found in input"); Prometheus accepts it.
    example('# comment\nup'),
    // The empty quoted metric name does not count as a name: `{""}` alone is rejected by
    // Prometheus ("vector selector must contain at least one non-empty matcher").
    example('{"", cluster="b"}', ['b']),
    // The label_replace wrapper writes the shard name raw; Prometheus's lexer rejects a raw U+FFFD
    // in a string ("invalid UTF-8 rune"); "\ufffd" would do.
    example('up or vector(1)', ['\uFFFD']),
    // The lezer-promql parser the router once used read `a - b offset 1h` as `(a - b) offset 1h`;
    // Prometheus binds the offset to `b`. compileQuery then refused the valid query as a syntax
    // error, and forShard wrapped `b` in label_replace before its offset, which Prometheus rejects
    // (found with promtool).
    example('sum(up) - up offset 1h'),
    example('up{cluster="a"} or up @ 100'),
  ],
  routing: [
    // Prometheus compiles the regex on its own too: `a)|(b` is "unexpected )". The router anchors
    // it as `^(?:a)|(b)$` and routes to shards starting with a or ending with b.
    example('up{cluster=~"a)|(b"}', ['a', 'b', 'ab', 'c']),
    // A regex with invalid UTF-8 is rejected by Go's regexp; the router decodes \xff to U+FFFD.
    example('up{cluster=~"\\xff"}'),
    // Same decoding: Prometheus compares bytes, so "\xff" is no shard's name; the router routes it
    // to a shard named U+FFFD.
    example('up{cluster="\\xff"}', ['a', '\uFFFD']),
    // Prometheus's lexer rejects a raw U+FFFD in a string ("invalid UTF-8 rune"); the router routes.
    example('up{cluster="\uFFFD"}', ['\uFFFD']),
  ],
  matchers: [
    // An aggregation with too many arguments (Prometheus: "wrong number of arguments"): across
    // shards, compileQuery takes the last as the vector and silently drops `x`.
    example('topk(1, x, up)'),
    // Same for absent()/absent_over_time() with two arguments: only the first is read.
    example('absent(up, x)'),
  ],
  untouched: [
    // A wrapper right after a keyword written without a space fused with it: `andlabel_replace(`.
    example('min (instance, type) and(demo_memory_usage_bytes)', ['日本']),
  ],
};

// Property 2, valid input stays valid: valid queries are accepted and every query sent to a shard
// stays valid (lezer-based judge; stays-valid-promtool.test.ts asks Prometheus 2.42 itself).
// The property itself, with its full statement, is in properties.ts.
import { describe } from 'vitest';
import { checkOnEverySource, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { staysValid } from './properties.ts';

watchHangs('valid input stays valid');

describe('property 2: valid input stays valid', () => {
  checkOnEverySource(staysValid, KNOWN_COUNTEREXAMPLES.staysValid);
});

// Property 2, valid input stays valid: valid queries are accepted and every query sent to a shard
// stays valid (lezer-based judge; stays-valid-promtool.test.ts asks Prometheus 2.42 itself).
// The property itself, with its full statement, is in properties.ts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { params, SOURCES, TEST_TIMEOUT_MS, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { staysValid } from './properties.ts';

watchHangs('valid input stays valid');

describe('property 2: valid input stays valid', () => {
  for (const [name, arb] of SOURCES) {
    it(name, () => {
      fc.assert(fc.property(arb, staysValid), params(KNOWN_COUNTEREXAMPLES.staysValid));
    }, TEST_TIMEOUT_MS);
  }
});

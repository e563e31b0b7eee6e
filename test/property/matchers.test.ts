// Property 4, never drops a non-shard matcher: every matcher on another label survives with its
// name, operator and decoded value; compiled leaves read every selector of the query.
// The property itself, with its full statement, is in properties.ts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { params, SOURCES, TEST_TIMEOUT_MS, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { keepsMatchers } from './properties.ts';

watchHangs('non-shard matchers survive');

describe('property 4: never drops a non-shard matcher', () => {
  for (const [name, arb] of SOURCES) {
    it(name, () => {
      fc.assert(fc.property(arb, keepsMatchers), params(KNOWN_COUNTEREXAMPLES.matchers));
    }, TEST_TIMEOUT_MS);
  }
});

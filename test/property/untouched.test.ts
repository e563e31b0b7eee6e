// Property 5, the rest of the text is untouched: outside the selectors' braces (label_replace
// wrappers removed) each query sent to a shard is the original byte for byte.
// The property itself, with its full statement, is in properties.ts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { params, SOURCES, TEST_TIMEOUT_MS, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { leavesTextAlone } from './properties.ts';

watchHangs('the rest of the text is untouched');

describe('property 5: the rest of the text is untouched', () => {
  for (const [name, arb] of SOURCES) {
    it(name, () => {
      fc.assert(fc.property(arb, leavesTextAlone), params(KNOWN_COUNTEREXAMPLES.untouched));
    }, TEST_TIMEOUT_MS);
  }
});

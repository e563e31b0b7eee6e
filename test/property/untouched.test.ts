// Property 5, the rest of the text is untouched: outside the selectors' braces (label_replace
// wrappers removed) each query sent to a shard is the original byte for byte.
// The property itself, with its full statement, is in properties.ts.
import { describe } from 'vitest';
import { checkOnEverySource, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { leavesTextAlone } from './properties.ts';

watchHangs('the rest of the text is untouched');

describe('property 5: the rest of the text is untouched', () => {
  checkOnEverySource(leavesTextAlone, KNOWN_COUNTEREXAMPLES.untouched);
});

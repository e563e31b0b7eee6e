// Property 4, never drops a non-shard matcher: every matcher on another label survives with its
// name, operator and decoded value; compiled leaves read every selector of the query.
// The property itself, with its full statement, is in properties.ts.
import { describe } from 'vitest';
import { checkOnEverySource, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { keepsMatchers } from './properties.ts';

watchHangs('non-shard matchers survive');

describe('property 4: never drops a non-shard matcher', () => {
  checkOnEverySource(keepsMatchers, KNOWN_COUNTEREXAMPLES.matchers);
});

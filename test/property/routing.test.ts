// Property 3, never sends a query to a shard its matchers exclude: routing (plan.shards, shardsOf,
// leaves) equals the oracle's; excluded selectors get cluster!=""; bad literals and regexes are rejected.
// The property itself, with its full statement, is in properties.ts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { params, SOURCES, TEST_TIMEOUT_MS, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { routesByMatchers } from './properties.ts';

watchHangs('routing follows the matchers');

describe('property 3: never sends a query to a shard its matchers exclude', () => {
  for (const [name, arb] of SOURCES) {
    it(name, () => {
      fc.assert(fc.property(arb, routesByMatchers), params(KNOWN_COUNTEREXAMPLES.routing));
    }, TEST_TIMEOUT_MS);
  }
});

// Property 3, never sends a query to a shard its matchers exclude: routing (plan.shards, shardsOf,
// leaves) equals the oracle's; excluded selectors get cluster!=""; bad literals and regexes are rejected.
// The property itself, with its full statement, is in properties.ts.
import { describe } from 'vitest';
import { checkOnEverySource, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { routesByMatchers } from './properties.ts';

watchHangs('routing follows the matchers');

describe('property 3: never sends a query to a shard its matchers exclude', () => {
  checkOnEverySource(routesByMatchers, KNOWN_COUNTEREXAMPLES.routing);
});

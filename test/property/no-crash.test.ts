// Property 1, never crashes: planQuery, forShard, compileQuery and every leaf's forShard succeed or
// throw PromQLSyntaxError, UnsupportedQueryError or EvaluationError, within the time budget.
// The property itself, with its full statement, is in properties.ts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { shardsArb } from './generators/common.ts';
import { TOKEN_SOUP } from './generators/corpus.ts';
import { checkOnEverySource, example, params, RUNS_PER_SOURCE, TEST_TIMEOUT_MS, watchHangs } from './harness.ts';
import { KNOWN_COUNTEREXAMPLES } from './known.ts';
import { neverCrashes } from './properties.ts';

watchHangs('never crashes');

/** Queries made of nothing but random tokens and characters. */
const tokenSoupArb = fc.tuple(fc.array(fc.constantFrom(...TOKEN_SOUP), { maxLength: 12 }), shardsArb)
  .map(([tokens, shards]) => example(tokens.join(''), shards));

describe('property 1: never crashes', () => {
  checkOnEverySource(neverCrashes, KNOWN_COUNTEREXAMPLES.noCrash);
  // On top of the property's cases: cheap, and mostly garbage.
  it('random token soup', () => {
    fc.assert(fc.property(tokenSoupArb, neverCrashes), params([], Math.ceil(RUNS_PER_SOURCE / 2)));
  }, TEST_TIMEOUT_MS);
});

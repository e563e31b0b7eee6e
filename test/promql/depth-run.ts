// Run by depth.test.ts in a fresh `node` process with a reduced stack: every stage of the router on
// queries nested as deep as the parser allows, in each shape. Exits non-zero on the first failure.
import { compileQuery, ENGINE_MAJOR } from '../../lib/engine/compile.ts';
import { SampleBudget } from '../../lib/engine/budget.ts';
import { buildOperator } from '../../lib/engine/execution/build.ts';
import { collectInstant } from '../../lib/engine/execution/run.ts';
import { checkQuery } from '../../lib/promql/check.ts';
import { MAX_DEPTH, parseQuery, QueryTooDeepError } from '../../lib/promql/parse.ts';
import { planQuery } from '../../lib/promql/plan.ts';

/** Queries of n levels in each shape, around a unit expression. */
export const SHAPES: Record<string, (n: number, unit: string) => string> = {
  'a + b + ...': (n, u) => Array(n).fill(u).join(' + '),
  'a or b or ...': (n, u) => Array(n).fill(u).join(' or '),
  'a ^ b ^ ...': (n, u) => Array(n).fill(u).join(' ^ '),
  '((a))': (n, u) => `${'('.repeat(n)}${u}${')'.repeat(n)}`,
  'abs(abs(a))': (n, u) => `${'abs('.repeat(n)}${u}${')'.repeat(n)}`,
  '- - a': (n, u) => `${'- '.repeat(n)}${u}`,
  'x + (x + (a))': (n, u) => `${'x + ('.repeat(n)}${u}${')'.repeat(n)}`,
};

/** The deepest query of a shape the parser accepts. */
function deepest(shape: (n: number, unit: string) => string, unit: string): string {
  for (let n = MAX_DEPTH; n > 0; n--) {
    const text = shape(n, unit);
    try {
      parseQuery(text);
      return text;
    } catch (err) {
      if (!(err instanceof QueryTooDeepError)) throw err;
    }
  }
  throw new Error('no depth parses');
}

const SHARDS = ['a', 'b', 'c'];
for (const [name, shape] of Object.entries(SHAPES)) {
  const routed = deepest(shape, 'up{cluster="a"}');
  checkQuery(parseQuery(routed), { major: 2 });
  planQuery(routed, 'cluster', SHARDS).forShard('a');
  // Across shards: sums of every shard, combined by the router.
  const across = planQuery(deepest(shape, 'sum(up)'), 'cluster', SHARDS);
  across.checkFor(ENGINE_MAJOR);
  const { expr } = compileQuery(across, SHARDS);
  const times = { start: 0, end: 0, defaultSubqueryStepMs: 60_000, major: 2 as const };
  const ctx = { batchSteps: 1, times, yieldPoint: async () => {}, budget: new SampleBudget(Infinity) };
  await collectInstant(buildOperator(expr, { start: 0, end: 0, step: 0 }, { leaves: () => [], rawLeaves: () => [], times, ctx }), 0);
  console.log(`${name}: ok`);
}

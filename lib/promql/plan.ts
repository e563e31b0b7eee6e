// Routing plan for one PromQL query: which shards its selectors touch, and the query (and label
// fix-up) to send to a given shard.
import { UnsupportedQueryError } from '../errors.ts';
import { descendants, vectorSelectors, type Expr, type Query, type VectorSelector } from './ast.ts';
import { checkQuery, emptySelector } from './check.ts';
import { promqlFunction, type Major } from './function-table.ts';
import { LabelAnalysis, type LabelState } from './labels.ts';
import { parseQuery, PromQLSyntaxError, type Experimental } from './parse.ts';
import { rewriteQuery } from './rewrite.ts';
import { selectedShards } from './selectors.ts';

export interface ShardQuery {
  /** The query text to send to the shard's collector. */
  readonly query: string;
  /** The shard label value to add to every series of the collector's answer; null if it is exact as is. */
  readonly addLabel: LabelState;
}

export class QueryPlan {
  /** forShard's answers: a plan may be reused (cached) for many requests. */
  private readonly byShard = new Map<string, ShardQuery>();
  /** The majors (and 3.x experimental features) the query passed checkQuery for. */
  private readonly checkedFor = new Set<string>();

  constructor(
    readonly query: Query,
    readonly shardLabel: string,
    /** The query's vector selectors, in text order. */
    readonly selectors: readonly VectorSelector[],
    /** The shards each selector can return series from, in shard map order. */
    private readonly routes: ReadonlyMap<VectorSelector, readonly string[]>,
    /** All shards any selector touches, in shard map order. */
    readonly shards: readonly string[],
    /**
     * The first selector Prometheus refuses for having no matcher that the empty string fails, judged
     * with its shard matchers (a label of the global Prometheus's series) before they are removed;
     * the API layer words the refusal per endpoint, as Prometheus does.
     */
    readonly emptySelector: VectorSelector | null,
  ) {}

  get text(): string {
    return this.query.text;
  }

  /** The query's expression. */
  get root(): Expr {
    return this.query.expr;
  }

  /** Whether the query is a bare series selector, as `match[]` parameters must be. */
  get isSeriesSelector(): boolean {
    return this.root.kind === 'vectorSelector';
  }

  /** Shards a selector can return series from. */
  shardsOf(selector: VectorSelector): readonly string[] {
    return this.routes.get(selector) ?? [];
  }

  /**
   * Checks the query as a Prometheus of that major (with those 3.x experimental features) would, once
   * per plan, for a query the router evaluates itself: first a function no major has (a newer
   * collector's: UnsupportedQueryError, a 422 naming it, whatever the version), then PromQLSyntaxError
   * with that major's verdict.
   */
  checkFor(major: Major, experimental?: Experimental): void {
    const key = `${major}${JSON.stringify(experimental ?? {})}`;
    if (this.checkedFor.has(key)) return;
    for (const node of descendants(this.root)) {
      if (node.kind === 'call' && promqlFunction(node.name) === undefined) {
        throw new UnsupportedQueryError(`unknown function ${JSON.stringify(node.name)}: the router cannot evaluate it across shards`);
      }
    }
    checkQuery(this.query, experimental === undefined ? { major } : { major, experimental });
    this.checkedFor.add(key);
  }

  /**
   * checkFor each major of the shards a query the router evaluates reads. One major's refusal where
   * the shards run two is no single Prometheus's verdict: an UnsupportedQueryError (422) naming it.
   */
  checkForMajors(majors: readonly Major[], experimental?: Experimental): void {
    for (const m of majors) {
      try {
        this.checkFor(m, experimental);
      } catch (err) {
        if (majors.length < 2 || !(err instanceof PromQLSyntaxError)) throw err;
        throw new UnsupportedQueryError(`the query reads shards of Prometheus ${majors.map((x) => `${x}.x`).join(' and ')}, and ${m}.x refuses it: ${err.message}`);
      }
    }
  }

  /**
   * The query as the given shard must answer it when it is the only shard the query touches (or,
   * with no shard touched, the shard chosen to evaluate it): selectors routed elsewhere select nothing.
   */
  forShard(shard: string): ShardQuery {
    let answer = this.byShard.get(shard);
    if (answer === undefined) this.byShard.set(shard, (answer = this.rewriteFor(shard)));
    return answer;
  }

  private rewriteFor(shard: string): ShardQuery {
    const routed = (s: VectorSelector) => this.shardsOf(s).includes(shard);
    const analysis = new LabelAnalysis(this.text, this.shardLabel, (s) => (routed(s) ? shard : null));
    const addLabel = analysis.state(this.root);
    const query = rewriteQuery({
      text: this.text, root: this.root, label: this.shardLabel, selectors: this.selectors, routed, materialised: analysis.materialised,
    });
    return { query, addLabel };
  }
}

/**
 * Parses a query (the union of PromQL 2.x and 3.x) and works out which shards each of its selectors
 * touches, shard-label regexes matched as Prometheus of `major` matches them. Throws PromQLSyntaxError
 * for what every Prometheus refuses.
 */
export function planQuery(text: string, shardLabel: string, shardNames: readonly string[], major: Major = 2): QueryPlan {
  const query = parseQuery(text);
  const selectors = vectorSelectors(query.expr);
  const routes = new Map<VectorSelector, readonly string[]>();
  const touched = new Set<string>();
  for (const s of selectors) {
    const shards = selectedShards(s, shardLabel, shardNames, major);
    routes.set(s, shards);
    for (const name of shards) touched.add(name);
  }
  return new QueryPlan(query, shardLabel, selectors, routes, shardNames.filter((n) => touched.has(n)), emptySelector(query));
}

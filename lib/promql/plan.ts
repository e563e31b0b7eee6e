// Routing plan for one PromQL query: which shards its selectors touch, and the query (and label
// fix-up) to send to a given shard.
import type { SyntaxNode } from '@lezer/common';
import { LabelAnalysis, type LabelState } from './labels.ts';
import { hasNonEmptyMatcher, type Matcher } from './matchers.ts';
import { parsePromQL } from './parse.ts';
import { rewriteQuery } from './rewrite.ts';
import { collectSelectors, selectedShards, type Selector } from './selectors.ts';
import { nodeKey } from './syntax.ts';

export interface ShardQuery {
  /** The query text to send to the shard's collector. */
  readonly query: string;
  /** The shard label value to add to every series of the collector's answer; null if it is exact as is. */
  readonly addLabel: LabelState;
}

export class QueryPlan {
  private readonly selectorByNode = new Map<string, Selector>();
  /** forShard's answers: a plan may be reused (cached) for many requests. */
  private readonly byShard = new Map<string, ShardQuery>();

  constructor(
    readonly text: string,
    readonly shardLabel: string,
    /** The query's expression node. */
    readonly root: SyntaxNode,
    readonly selectors: readonly Selector[],
    /** The shards each selector can return series from, in shard map order. */
    private readonly routes: ReadonlyMap<Selector, readonly string[]>,
    /** All shards any selector touches, in shard map order. */
    readonly shards: readonly string[],
    /** The first selector Prometheus refuses for having no matcher that the empty string fails. */
    readonly emptySelector: Selector | null,
  ) {
    for (const s of selectors) this.selectorByNode.set(nodeKey(s.node), s);
  }

  /** Whether the query is a bare series selector, as `match[]` parameters must be. */
  get isSeriesSelector(): boolean {
    return this.root.type.name === 'VectorSelector';
  }

  /** Shards a selector can return series from. */
  shardsOf(selector: Selector): readonly string[] {
    return this.routes.get(selector) ?? [];
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
    const selectorAt = (node: SyntaxNode) => this.selectorByNode.get(nodeKey(node))!;
    const routed = (s: Selector) => this.shardsOf(s).includes(shard);
    const analysis = new LabelAnalysis(this.text, this.shardLabel, selectorAt, (s) => (routed(s) ? shard : null));
    const addLabel = analysis.state(this.root);
    const query = rewriteQuery(this.root, {
      text: this.text, label: this.shardLabel, selectorAt, routed, materialised: analysis.materialised,
    });
    return { query, addLabel };
  }
}

/** Parses a query and works out which shards each of its selectors touches. Throws PromQLSyntaxError. */
export function planQuery(text: string, shardLabel: string, shardNames: readonly string[]): QueryPlan {
  const root = parsePromQL(text);
  const selectors = collectSelectors(root, text);
  const routes = new Map<Selector, readonly string[]>();
  const touched = new Set<string>();
  for (const s of selectors) {
    const shards = selectedShards(s, shardLabel, shardNames);
    routes.set(s, shards);
    for (const name of shards) touched.add(name);
  }
  const emptySelector = selectors.find((s) => !hasNonEmptyMatcher(allMatchers(s))) ?? null;
  return new QueryPlan(text, shardLabel, root, selectors, routes, shardNames.filter((n) => touched.has(n)), emptySelector);
}

/** The selector's matchers with its metric name as Prometheus counts it: `__name__="<name>"`. */
function allMatchers(selector: Selector): readonly Matcher[] {
  return selector.metricName === null ? selector.matchers : [{ name: '__name__', op: '=', value: selector.metricName }, ...selector.matchers];
}

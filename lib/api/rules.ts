// /api/v1/rules and /api/v1/alerts: every shard's recording and alerting rules and active alerts,
// with the shard label added to each alert's labels, as if one Prometheus held them all. A merged
// shard's replicas evaluate the same rules: their answers are deduplicated as Thanos Query does, an
// alert in its most critical state on either replica (lib/replicas/union.ts).
import type { LabelSet } from '../labelsets.ts';
import { withShardLabel } from '../shard-label/edit.ts';
import { AlertsSchema, RulesSchema } from './answers.ts';
import { askShards, respond, type RequestContext } from './context.ts';
import { pick } from './params.ts';
import { everyShardCalls } from './plans.ts';
import { uniteAlerts, uniteRules } from '../replicas/union.ts';

interface Alert { labels: LabelSet; [key: string]: unknown }

const RULE_FILTERS = ['type', 'rule_name[]', 'rule_group[]', 'file[]', 'exclude_alerts'];

export async function handleRules(ctx: RequestContext): Promise<Response> {
  const params = pick(ctx.params, RULE_FILTERS);
  const { answers, warnings } = await askShards(ctx, everyShardCalls(ctx, '/api/v1/rules', params), RulesSchema, uniteRules);
  const groups = answers.flatMap(({ shard, data }) => data.groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) => (rule.alerts === undefined ? rule : { ...rule, alerts: labelAlerts(ctx, shard, rule.alerts) })),
  })));
  return respond(ctx, { groups }, warnings);
}

export async function handleAlerts(ctx: RequestContext): Promise<Response> {
  const { answers, warnings } = await askShards(ctx, everyShardCalls(ctx, '/api/v1/alerts', new URLSearchParams()), AlertsSchema, uniteAlerts);
  const alerts = answers.flatMap(({ shard, data }) => labelAlerts(ctx, shard, data.alerts));
  return respond(ctx, { alerts }, warnings);
}

function labelAlerts(ctx: RequestContext, shard: string, alerts: Alert[]): Alert[] {
  return alerts.map((alert) => ({ ...alert, labels: withShardLabel(alert.labels, ctx.map.shardLabel, shard) }));
}

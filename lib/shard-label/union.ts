// The answer to a query that is one leaf over several shards: the union of the shards' answers, each
// series with its shard's label, assembled from the answers' bytes. Nothing is parsed into objects or
// written again: the result lists are copied with the label inserted into each label set (after the
// scan found exactly where each set opens), as the single-shard path streams one answer.
import type { QueryAnswer } from '../collectors/client.ts';
import { EvaluationError } from '../errors.ts';
import type { LabelSet } from '../labelsets.ts';
import { withShardLabel } from './edit.ts';

export interface UnionPart {
  readonly answer: QueryAnswer;
  /** The shard label value to insert; null where the leaf's series must not get one. */
  readonly addLabel: string | null;
}

/**
 * The success envelope with every part's series, in part order. Where a series carries labels the
 * shard label rule translates (its own shard label), the rule of every path applies (withShardLabel);
 * where label sets can meet (such series, or a part whose series get no label), two series of one
 * label set are Prometheus's "same labelset" error at a step both have a sample. `stats`: the answer's
 * `data.stats` where the caller asked for statistics (lib/api/query-stats.ts).
 */
export function unionAnswer(parts: readonly UnionPart[], shardLabel: string, resultType: 'vector' | 'matrix', warnings: readonly string[], stats?: unknown): Buffer[] {
  checkDistinct(parts, shardLabel, resultType);
  const out: Buffer[] = [Buffer.from(`{"status":"success","data":{"resultType":${JSON.stringify(resultType)},"result":[`)];
  let first = true;
  for (const { answer: { body, answer }, addLabel } of parts) {
    if (answer.series.length === 0) continue;
    if (!first) out.push(COMMA);
    first = false;
    let from = answer.result!.from + 1; // inside the list's brackets
    const pair = addLabel === null ? null : Buffer.from(`${JSON.stringify(shardLabel)}:${JSON.stringify(addLabel)}`);
    for (const s of answer.series) {
      if (s.translated) {
        // Rare (a collector's own shard label): the label set written anew by the rule.
        const metric = withShardLabel(JSON.parse(body.toString('utf8', s.metric.from, s.metric.to)) as LabelSet, shardLabel, addLabel);
        out.push(body.subarray(from, s.metric.from), Buffer.from(JSON.stringify(metric)));
        from = s.metric.to;
      } else if (pair !== null) {
        // The router's pair at the end of the set (as the streamed single-shard answers have it).
        const close = s.metric.to - 1;
        out.push(body.subarray(from, close));
        if (!isBlank(body.subarray(s.metric.from + 1, close))) out.push(COMMA);
        out.push(pair);
        from = close;
      }
    }
    out.push(body.subarray(from, answer.result!.to - 1));
  }
  out.push(Buffer.from(`]${stats === undefined ? '' : `,"stats":${JSON.stringify(stats)}`}}${warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}` : ''}}`));
  return out;
}

const COMMA = Buffer.from(',');

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isBlank(piece: Buffer): boolean {
  return piece.every(isSpace);
}

/**
 * Label sets can only meet where a part's series get no shard label, or carry translated labels of
 * their own: decode those parts' sets (and, for matrices, their timestamps) and look.
 */
function checkDistinct(parts: readonly UnionPart[], shardLabel: string, resultType: 'vector' | 'matrix'): void {
  if (parts.every((p) => p.addLabel !== null && p.answer.answer.series.every((s) => !s.translated))) return;
  const seen = new Map<string, Set<number> | null>();
  for (const { answer: { body, answer }, addLabel } of parts) {
    for (const s of answer.series) {
      const parsed = JSON.parse(body.toString('utf8', s.metric.from, s.metric.to)) as Record<string, string>;
      const metric = withShardLabel(parsed, shardLabel, addLabel);
      const key = JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const times = resultType === 'matrix' && s.samples !== null
        ? new Set((JSON.parse(body.toString('utf8', s.samples.from, s.samples.to)) as [number, string][]).map(([t]) => t))
        : null;
      if (!seen.has(key)) {
        seen.set(key, times);
        continue;
      }
      const other = seen.get(key)!;
      const meet = times === null || other === null || [...times].some((t) => other.has(t));
      if (meet) throw new EvaluationError('vector cannot contain metrics with the same labelset');
    }
  }
}

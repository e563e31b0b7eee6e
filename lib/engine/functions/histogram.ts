// histogram_quantile over classic histograms (series with an `le` label), as Prometheus 2.42 does it.

import { dropMetricName, labelsKey, removeLabels } from '../labels.ts';
import type { Labels, Sample, Vector } from '../types.ts';
import { bucketQuantile } from './quantile.ts';
import type { Bucket } from './quantile.ts';

const BUCKET_LABEL = 'le';

/**
 * `histogram_quantile(q, v)`: groups the samples by all labels but `le` (the metric name included, so
 * that two histograms differing only in name are not merged; both lose the name in the result, which
 * then fails as a duplicate label set), skipping samples whose `le` does not parse as a Go float.
 *
 * Prometheus iterates a Go map for the output, so its order is random; this returns first-seen order.
 */
export function histogramQuantile(q: number, vector: Vector): Vector {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const sample of vector) {
    const upperBound = parseGoFloat(sample.labels[BUCKET_LABEL] ?? '');
    if (upperBound === undefined) continue;
    const key = labelsKey(removeLabels(sample.labels, [BUCKET_LABEL]));
    let group = groups.get(key);
    if (!group) {
      group = { labels: dropMetricName(removeLabels(sample.labels, [BUCKET_LABEL])), buckets: [] };
      groups.set(key, group);
    }
    group.buckets.push({ upperBound, count: sample.value });
  }
  return [...groups.values()].map((g): Sample => ({ labels: g.labels, value: bucketQuantile(q, g.buckets) }));
}

const DECIMAL = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/;
const HEX = /^([+-]?)0[xX]((?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+))[pP]([+-]?[0-9_]+)$/;

/**
 * Go's strconv.ParseFloat(s, 64), or undefined where it returns an error: Go's float literal syntax
 * (decimal, or hexadecimal with a mandatory p exponent; `_` between digits), "inf"/"infinity" with
 * optional sign and "nan", any case; no surrounding spaces. Values out of range are errors (Go returns
 * ±Inf with ErrRange), so a bucket `le="1e400"` is skipped like an unparsable one.
 */
export function parseGoFloat(s: string): number | undefined {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (s.includes('_') && !underscoresOk(s)) return undefined;
  const plain = s.replaceAll('_', '');
  let value: number;
  if (DECIMAL.test(s)) {
    value = Number(plain);
  } else {
    const hex = HEX.exec(plain);
    if (!HEX.test(s) || !hex) return undefined;
    const [, sign, mantissa = '', exponent = '0'] = hex;
    const dot = mantissa.indexOf('.');
    const digits = mantissa.replace('.', '');
    const fractionDigits = dot < 0 ? 0 : mantissa.length - dot - 1;
    // BigInt → Number rounds to nearest; scaling by a power of two is exact (outside subnormals).
    value = Number(BigInt(`0x${digits || '0'}`)) * 2 ** (Number(exponent) - 4 * fractionDigits);
    if (sign === '-') value = -value;
  }
  return Number.isFinite(value) ? value : undefined;
}

/** Go's underscoreOK: each `_` sits between digits (a base prefix counts as a digit). */
function underscoresOk(s: string): boolean {
  let body = s.replace(/^[+-]/, '');
  let saw = '^';
  let hex = false;
  if (/^0[bBoOxX]/.test(body)) {
    hex = /^0[xX]/.test(body);
    body = body.slice(2);
    saw = '0';
  }
  for (const c of body) {
    if (/[0-9]/.test(c) || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

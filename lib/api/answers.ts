// The shapes of collectors' `data` the router reads, per endpoint: a collector answering another shape
// (a proxy's page in JSON, a broken build, a hostile peer) is a shard failure, never an internal error.
import * as v from 'valibot';
import { isLabelSet, type LabelSet } from '../labelsets.ts';

/** A label set: a plain object of strings, every key checked ("__proto__" included, which v.record skips). */
export const LabelSetSchema = v.custom<LabelSet>(isLabelSet, 'must be an object of string label values');

export const StringListSchema = v.array(v.string());

export const SeriesListSchema = v.array(LabelSetSchema);

const AlertSchema = v.looseObject({ labels: LabelSetSchema });

export const AlertsSchema = v.looseObject({ alerts: v.array(AlertSchema) });

export const RulesSchema = v.looseObject({
  groups: v.array(v.looseObject({ rules: v.array(v.looseObject({ alerts: v.optional(v.array(AlertSchema)) })) })),
});

export const MetadataSchema = v.record(v.string(), v.array(v.looseObject({ type: v.string(), help: v.string(), unit: v.string() })));

export const ExemplarsSchema = v.array(v.looseObject({ seriesLabels: LabelSetSchema, exemplars: v.array(v.unknown()) }));

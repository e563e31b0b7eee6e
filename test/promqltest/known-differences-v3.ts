// Every eval of Prometheus v3.14.0's scripts that the router's engine evaluates (in process, 3.x
// semantics, engine-v3.ts) with an answer other than the script's, with the reason. The test asserts
// that exactly these differ: a fix makes it fail until its entry is removed here.

export interface KnownDifferenceV3 {
  reason: string;
  /** `file:line`. */
  evals: string[];
}

export const KNOWN_DIFFERENCES_V3: KnownDifferenceV3[] = [
  {
    reason: 'delayed `__name__` removal: upstream\'s test engine turns on EnableDelayedNameRemoval (the promql-delayed-name-removal feature flag, off by default in a 3.14 server); the router drops the metric name where each operation happens, as a default 3.x server does (and keeps it for atan2)',
    evals: [
      'name_label_dropping.test:59', 'name_label_dropping.test:64', 'name_label_dropping.test:69', 'name_label_dropping.test:74',
      'name_label_dropping.test:89', 'name_label_dropping.test:115', 'name_label_dropping.test:119', 'name_label_dropping.test:123',
      'operators.test:530', 'operators.test:533',
    ],
  },
  {
    reason: '`__type__` and `__unit__` labels (the type-and-unit-labels feature flag, which the script\'s evals assume): the router\'s engine does not drop or keep them as that feature does',
    evals: [
      'type_and_unit.test:39', 'type_and_unit.test:53', 'type_and_unit.test:56', 'type_and_unit.test:63', 'type_and_unit.test:77',
      'type_and_unit.test:92', 'type_and_unit.test:122', 'type_and_unit.test:140', 'type_and_unit.test:181', 'type_and_unit.test:195',
      'type_and_unit.test:198', 'type_and_unit.test:208', 'type_and_unit.test:218', 'type_and_unit.test:222', 'type_and_unit.test:226',
      'type_and_unit.test:237', 'type_and_unit.test:279',
    ],
  },
  {
    reason: 'the shard label: every series the router reads carries it and `vector(1)` does not, so `ignoring(...)` without it matches nothing (as on a global Prometheus holding the label; the v2.42 runner lists the same eval as a difference of the split)',
    evals: ['operators.test:243'],
  },
  {
    reason: 'the script loads `data{test="inf3",point="d"}` (and its -inf3 twin) twice at one time with different values; upstream\'s loader keeps the last definition, the scripts\' reader here (cases.ts) the first, as a TSDB keeps the first sample at a timestamp: the data differ, not the engine',
    evals: ['aggregators.test:636', 'aggregators.test:645'],
  },
];

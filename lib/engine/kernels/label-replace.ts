// label_replace and label_join, with Prometheus 2.42's checks and error messages, and 3.x's where the
// major says so (`.` matching newlines, UTF-8 label names). Both keep the metric name (and may even
// set `__name__`).

import { RE2JS } from 're2js';
import type { Major } from '../../promql/function-table.ts';
import { INVALID_UTF8 } from '../../promql/strings.ts';
import { setLabel } from '../labels.ts';
import { EvaluationError } from '../../errors.ts';
import type { Labels } from '../types.ts';

/** The legacy label name syntax of Prometheus 2.42 (model.LabelNameRE / LabelName.IsValid). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** 2.x: the legacy syntax; 3.x: any non-empty valid UTF-8 (model.UTF8Validation). */
function validLabelName(name: string, major: Major): boolean {
  return major === 2 ? LABEL_NAME.test(name) : name !== '' && !name.includes(INVALID_UTF8);
}

/**
 * `label_replace(v, dst, replacement, src, regex)` as a function of each series' labels: where the fully
 * anchored regex matches the value of `src` ("" when absent), `dst` becomes the expanded replacement
 * (removed when that is empty); elsewhere the labels are unchanged. The arguments are checked first,
 * regex before destination, as Prometheus checks them even for an empty vector.
 */
export function labelReplacer(dst: string, replacement: string, src: string, regex: string, major: Major): (labels: Labels) => Labels {
  // 3.x lets `.` match a newline, and is built with a Go that knows `(?<name>...)`.
  const re = major === 2 ? compileGoRegexp(`^(?:${regex})$`) : compileGoRegexp(`^(?s:${regex})$`, true);
  if (!re) throw new EvaluationError(`invalid regular expression in label_replace(): ${regex}`);
  if (!validLabelName(dst, major)) throw new EvaluationError(`invalid destination label name in label_replace(): ${dst}`);
  const groupIndex = re.namedGroups();
  return (labels) => {
    const m = re.matcher(labels[src] ?? '');
    if (!m.find()) return labels;
    const groups: (string | undefined)[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
    return setLabel(labels, dst, expandTemplate(replacement, groups, groupIndex));
  };
}

/**
 * `label_join(v, dst, separator, src...)` as a function of each series' labels: `dst` becomes the values
 * of the `src` labels ("" for absent ones) joined by the separator, or is removed when that is empty.
 * Source names are checked before the destination.
 */
export function labelJoiner(dst: string, separator: string, srcs: readonly string[], major: Major): (labels: Labels) => Labels {
  for (const src of srcs) {
    if (!validLabelName(src, major)) throw new EvaluationError(`invalid source label name in label_join(): ${src}`);
  }
  if (!validLabelName(dst, major)) throw new EvaluationError(`invalid destination label name in label_join(): ${dst}`);
  return (labels) => setLabel(labels, dst, srcs.map((s) => labels[s] ?? '').join(separator));
}

/** Compiled label_replace patterns: dashboards repeat the same few. */
const compiled = new Map<string, RE2JS | undefined>();
const MAX_COMPILED = 256;

/**
 * Compiles with RE2 syntax as Go 1.19's regexp does, or returns undefined for a syntax error. re2js
 * follows a newer Go, which also accepts `(?<name>…)`; Go 1.19 only knows `(?P<name>…)`, so such a
 * group is rejected here as Prometheus 2.42 rejects it.
 */
function compileGoRegexp(pattern: string, angleGroups = false): RE2JS | undefined {
  if (compiled.has(pattern)) return compiled.get(pattern);
  let re: RE2JS | undefined;
  if (angleGroups || !hasAngleNamedGroup(pattern)) {
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = undefined;
    }
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(pattern, re);
  return re;
}

/** Whether an unescaped `(?<` occurs outside a character class. */
function hasAngleNamedGroup(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      // \Q...\E quotes everything up to \E.
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        i = end < 0 ? pattern.length : end + 1;
      } else i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal member of the class.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && pattern.startsWith('?<', i + 1)) return true;
  }
  return false;
}

/**
 * Go's Regexp.Expand: `$$` is a literal `$`; `$name` and `${name}` take the longest run of letters,
 * digits and `_` as the name, so `$1x` means the group named "1x" (usually none: empty) rather than
 * group 1 followed by "x". All-digit names are group numbers (no leading zeros; `$01` is a name). A
 * `$` not followed by a valid name stays literal. Unknown or unmatched groups expand to "".
 */
export function expandTemplate(template: string, groups: readonly (string | undefined)[], named: Readonly<Record<string, number>>): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractName(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    rest = ref.rest;
    const index = ref.num >= 0 ? ref.num : named[ref.name];
    if (index !== undefined) out += groups[index] ?? '';
  }
  return out + rest;
}

const NAME_CHAR = /^[\p{L}\p{Nd}_]/u;

function extractName(s: string): { name: string; num: number; rest: string } | undefined {
  const brace = s.startsWith('{');
  const body = brace ? s.slice(1) : s;
  let i = 0;
  while (i < body.length) {
    const m = NAME_CHAR.exec(body.slice(i));
    if (!m) break;
    i += m[0].length;
  }
  if (i === 0) return undefined;
  const name = body.slice(0, i);
  if (brace) {
    if (body[i] !== '}') return undefined;
    i++;
  }
  let num = -1;
  if (/^[0-9]+$/.test(name) && !(name.length > 1 && name.startsWith('0'))) {
    // Go gives up on numbers from ten digits on: those are names (of no group).
    num = name.length <= 9 ? Number(name) : -1;
  }
  return { name, num, rest: body.slice(i) };
}

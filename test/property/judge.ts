// The test's judge of a query's validity for Prometheus, without Prometheus: the lezer grammar,
// Prometheus's string-literal rules, Go's regexp syntax and the non-empty-matcher rule for selectors.
import {
  LiteralError, lezerAccepts, literalErrors, oracleSelectors, regexErrors, selectsSomethingNamed, type OracleSelector,
} from './oracle.ts';

/** What makes the query invalid; empty when valid. */
export function judge(text: string): string[] {
  if (!lezerAccepts(text)) return ['the lezer grammar rejects it'];
  const problems = literalErrors(text);
  let selectors: OracleSelector[];
  try {
    selectors = oracleSelectors(text);
  } catch (err) {
    if (err instanceof LiteralError) return [...problems, err.message];
    throw err;
  }
  problems.push(...regexErrors(selectors));
  for (const s of selectors) {
    if (regexErrors([s]).length > 0) continue;
    if (!selectsSomethingNamed(s)) problems.push(`${JSON.stringify(text.slice(s.from, s.to))}: vector selector must contain at least one non-empty matcher`);
  }
  return problems;
}

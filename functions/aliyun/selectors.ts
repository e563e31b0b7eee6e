// FC's HTTP trigger hands a repeated query parameter over as one value joined with commas
// (`?match[]=up&match[]=down` arrives as "up,down"). Series selectors have commas of their own
// (`up{job="a",env="b"}`), so the value is split only where a comma stands outside braces, brackets,
// parentheses, string literals and comments: where no selector can have one.

/** Splits FC's comma-joined `match[]` value back into the selectors the client sent. */
export function splitSelectors(joined: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let depth = 0;
  let quote: string | null = null; // inside "…" or '…' (backslash escapes) or `…` (raw, no escapes)
  let comment = false; // PromQL comments run from # to the end of the line
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (comment) comment = c !== '\n';
    else if (quote !== null) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '#') comment = true;
    else if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(joined.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(joined.slice(start));
  return parts;
}

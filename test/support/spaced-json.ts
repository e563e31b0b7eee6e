// Test inputs for the JSON readers: the same value as any valid writer may spell it.

/** JSON text with random whitespace between tokens, as any valid writer may produce it. */
export function spaced(value: unknown, spaces: readonly string[]): string {
  const text = JSON.stringify(value);
  const space = (k: number) => spaces[k % spaces.length]!;
  let out = '';
  let k = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else {
      out += ',:[]{}'.includes(c) ? `${space(k++)}${c}${space(k++)}` : c;
    }
  }
  return out;
}

// The natural order Prometheus 3.x's sort_by_label compares label values with (Go's
// github.com/facette/natsort, `Compare`): values cut into runs of ASCII digits and runs of anything
// else; runs compared pairwise, as integers where both parse as Go ints (int64), else as strings.
import { compareStrings } from '../../labelsets.ts';

const CHUNKS = /[0-9]+|[^0-9]+/g;
const MAX_INT64 = 2n ** 63n - 1n;

/** strconv.Atoi of a run of digits: its value, or null where it overflows int64. */
function atoi(chunk: string): bigint | null {
  if (!/^[0-9]/.test(chunk)) return null;
  const n = BigInt(chunk);
  return n > MAX_INT64 ? null : n;
}

/**
 * Whether `a` precedes `b`. Not a strict order, like the original: a value that is a prefix of the other
 * chunk-wise, equal chunks included, precedes it both ways round ("01" and "1"), and "" precedes nothing.
 */
export function naturalLess(a: string, b: string): boolean {
  const chunksA = a.match(CHUNKS) ?? [];
  const chunksB = b.match(CHUNKS) ?? [];
  for (let i = 0; i < chunksA.length; i++) {
    if (i >= chunksB.length) return false;
    const [ca, cb] = [chunksA[i]!, chunksB[i]!];
    const [na, nb] = [atoi(ca), atoi(cb)];
    const equal = na !== null && nb !== null ? na === nb : ca === cb;
    if (!equal) return na !== null && nb !== null ? na < nb : compareStrings(ca, cb) < 0;
    if (i === chunksA.length - 1) return true;
    if (i === chunksB.length - 1) return false;
  }
  return false;
}

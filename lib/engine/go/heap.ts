// Go's container/heap Push and Pop, for Prometheus 2.42's topk/bottomk, which keep each group's k best
// samples in such a heap. Which of several equal (or NaN) samples survives, and the order in which the
// heap hands them to the final sort, follow from these exact sift-up/sift-down steps.

/** `heap.Push`: append, then sift up (Go's `up`). */
export function heapPush<T>(h: T[], x: T, less: (a: T, b: T) => boolean): void {
  h.push(x);
  let j = h.length - 1;
  for (;;) {
    const i = Math.trunc((j - 1) / 2); // Go's integer division: (0-1)/2 == 0 stops at the root
    if (i === j || !less(h[j]!, h[i]!)) break;
    swap(h, i, j);
    j = i;
  }
}

/** `heap.Pop`: swap the root with the last element, sift the new root down (Go's `down`), remove the last. */
export function heapPop<T>(h: T[], less: (a: T, b: T) => boolean): T {
  const n = h.length - 1;
  swap(h, 0, n);
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    let j = left;
    if (left + 1 < n && less(h[left + 1]!, h[left]!)) j = left + 1;
    if (!less(h[j]!, h[i]!)) break;
    swap(h, i, j);
    i = j;
  }
  return h.pop()!;
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

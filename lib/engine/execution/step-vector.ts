// One evaluation step's instant vector: parallel arrays of series ids and values, in the order
// Prometheus would have the samples (it matters for sort(), topk() and instant query answers). Plain
// arrays, not typed ones: most step vectors are small, and a typed array's allocation costs more than
// the whole vector's work (measured: a million samples in vectors of 1, 4 and 50, 1.5x to 5x).

export class StepVector {
  readonly ids: number[] = [];
  readonly values: number[] = [];

  constructor(
    /** The step's timestamp, epoch ms. */
    readonly t: number,
  ) {}

  get length(): number {
    return this.ids.length;
  }

  push(id: number, value: number): void {
    this.ids.push(id);
    this.values.push(value);
  }
}

/** Empty vectors for the steps of a batch. */
export function emptyBatch(times: readonly number[]): StepVector[] {
  return times.map((t) => new StepVector(t));
}

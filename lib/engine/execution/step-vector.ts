// One evaluation step's instant vector: parallel arrays of series ids and values, in the order
// Prometheus would have the samples (it matters for sort(), topk() and instant query answers).

export class StepVector {
  ids: Int32Array;
  values: Float64Array;
  length = 0;

  constructor(
    /** The step's timestamp, epoch ms. */
    readonly t: number,
    capacity = 8,
  ) {
    this.ids = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
  }

  push(id: number, value: number): void {
    if (this.length === this.ids.length) this.grow();
    this.ids[this.length] = id;
    this.values[this.length] = value;
    this.length++;
  }

  private grow(): void {
    const ids = new Int32Array(this.ids.length * 2 || 8);
    const values = new Float64Array(ids.length);
    ids.set(this.ids);
    values.set(this.values);
    this.ids = ids;
    this.values = values;
  }
}

/** Empty vectors for the steps of a batch, sized for `capacity` samples each. */
export function emptyBatch(times: readonly number[], capacity: number): StepVector[] {
  return times.map((t) => new StepVector(t, Math.max(capacity, 1)));
}

// Series resolved once: every operator numbers its output series 0, 1, 2, ... and keeps their label
// sets here. Samples then travel as (series id, value) pairs; label keys, group and matching
// signatures are computed once per series instead of once per sample per step.
import { labelsKey } from '../labels.ts';
import type { Labels } from '../types.ts';

export class SeriesTable {
  readonly labels: Labels[] = [];
  private readonly keys: (string | undefined)[] = [];
  private readonly ids = new Map<string, number>();

  get size(): number {
    return this.labels.length;
  }

  /** The id of a label set, the same for equal sets: operators whose outputs may coincide. */
  intern(labels: Labels): number {
    const key = labelsKey(labels);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push(labels);
      this.keys.push(key);
      this.ids.set(key, id);
    }
    return id;
  }

  /**
   * A new id whatever the labels: leaves, whose series from different shards may share a label set
   * (partial aggregates always do; raw series only where the shard label is lost, an error when they
   * meet at one step).
   */
  add(labels: Labels): number {
    this.labels.push(labels);
    this.keys.push(undefined);
    return this.labels.length - 1;
  }

  key(id: number): string {
    return (this.keys[id] ??= labelsKey(this.labels[id]!));
  }
}

/** A per-series cache that grows with the table it maps from: -1 means "not computed yet". */
export class IdMap {
  private map = new Int32Array(16).fill(-1);

  get(id: number): number {
    return id < this.map.length ? this.map[id]! : -1;
  }

  set(id: number, value: number): void {
    if (id >= this.map.length) {
      const grown = new Int32Array(Math.max(this.map.length * 2, id + 1)).fill(-1);
      grown.set(this.map);
      this.map = grown;
    }
    this.map[id] = value;
  }
}

/**
 * Marks ids seen within one step without clearing between steps: a mark is the step's number.
 * Used for Prometheus's per-step checks (duplicate label sets, duplicate match groups).
 */
export class StepMarks {
  private marks = new Int32Array(16);
  private step = 0;

  /** Starts a new step: every mark of the previous one is forgotten. */
  next(): void {
    this.step++;
  }

  /** Marks `id`; returns whether it was already marked in this step. */
  mark(id: number): boolean {
    if (id >= this.marks.length) {
      const grown = new Int32Array(Math.max(this.marks.length * 2, id + 1));
      grown.set(this.marks);
      this.marks = grown;
    }
    if (this.marks[id] === this.step) return true;
    this.marks[id] = this.step;
    return false;
  }

  has(id: number): boolean {
    return id < this.marks.length && this.marks[id] === this.step;
  }
}

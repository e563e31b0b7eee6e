// What one request did, for its log line: the shards asked, how long each took, what they sent.

import type { BodyCount } from '../collectors/checked-body.ts';

export interface ShardVisit {
  ms: number;
  /** Bytes of collector answers read by the router, streamed pass-through answers included. */
  bytes: number;
  requests: number;
  errors: number;
  /** Shards in "merge" mode: their replicas' remote read answers by response type. */
  remoteReads?: Partial<Record<'samples' | 'chunks', number>>;
}

export class RequestTrace {
  readonly shards = new Map<string, ShardVisit>();
  /** Per shard, the longest wait for one of its answers' headers, unrounded (the Server-Timing header's). */
  readonly waitedMs = new Map<string, number>();
  private readonly streams: Promise<void>[] = [];

  /** Counts a collector answer streamed through to the caller, whose end comes after the handler's. */
  stream(shard: string): BodyCount {
    let ended!: () => void;
    this.streams.push(new Promise<void>((resolve) => (ended = resolve)));
    return { add: (bytes) => this.addBytes(shard, bytes), done: () => ended() };
  }

  /** Settles once every streamed answer has ended (at once when there is none): then the bytes are known. */
  streamsEnded(): Promise<void> | null {
    return this.streams.length === 0 ? null : Promise.all(this.streams).then(() => undefined);
  }

  record(shard: string, ms: number, ok: boolean): void {
    const visit = this.visit(shard);
    visit.ms = Math.max(visit.ms, Math.round(ms));
    this.waitedMs.set(shard, Math.max(this.waitedMs.get(shard) ?? 0, ms));
    visit.requests++;
    if (!ok) visit.errors++;
  }

  /** A replica's remote read answer of response type `type`. */
  addRemoteRead(shard: string, type: 'samples' | 'chunks'): void {
    const reads = (this.visit(shard).remoteReads ??= {});
    reads[type] = (reads[type] ?? 0) + 1;
  }

  addBytes(shard: string, bytes: number): void {
    this.visit(shard).bytes += bytes;
  }

  /** Summed over shards. */
  get bytes(): number {
    let total = 0;
    for (const v of this.shards.values()) total += v.bytes;
    return total;
  }

  private visit(shard: string): ShardVisit {
    let visit = this.shards.get(shard);
    if (visit === undefined) this.shards.set(shard, (visit = { ms: 0, bytes: 0, requests: 0, errors: 0 }));
    return visit;
  }
}

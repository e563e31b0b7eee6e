// The default backend: extents in this process, least recently used first out, bounded in bytes (the
// stored values, their keys and, once read, their decoded forms: each is decoded once). In `serve` it
// lives as long as the server; in a function, as long as the warm instance.
//
// Least recently used in the CLOCK manner (second chance): a hit only marks its entry; eviction walks
// from the oldest insertion, moving marked entries to the young end (unmarked) and evicting the first
// unmarked one. A hit is then one map lookup rather than a delete and a re-insert, which on a map of
// thousands of extents was a tenth of a cached refresh's CPU; what is evicted is still an entry not
// read since it last came round.
import type { CacheBackend, Decoded, StoredEntry } from './backend.ts';

/** 64 MiB: an eighth of a 512 MB Lambda, many dashboards' worth of extents. */
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;

interface Held {
  readonly value: Buffer;
  readonly expires: number;
  /** The value, its key and its decoded form, as counted in the bound. */
  bytes: number;
  /** Read since it was stored or last came round in an eviction. */
  used: boolean;
  /** What the results cache decoded from the value (lib/cache/entry.ts), once it has. */
  decoded?: unknown;
}

export class MemoryBackend implements CacheBackend {
  readonly kind = 'memory';
  readonly inProcess = true;
  /** A Map iterates in insertion order: the oldest insertion (or second chance) first. */
  private readonly entries = new Map<string, Held>();
  private held = 0;

  constructor(readonly maxBytes: number = DEFAULT_MEMORY_BYTES, private readonly now: () => number = Date.now) {}

  /** Bytes held now, never above maxBytes. */
  get bytes(): number {
    return this.held;
  }

  async get(keys: readonly string[]): Promise<(Buffer | null)[]> {
    const now = this.now();
    return keys.map((key) => {
      const entry = this.entries.get(key);
      if (entry === undefined) return null;
      if (entry.expires <= now) {
        this.remove(key);
        return null;
      }
      entry.used = true;
      return entry.value;
    });
  }

  async set(entries: readonly StoredEntry[], ttlSeconds: number): Promise<void> {
    const expires = this.now() + ttlSeconds * 1000;
    for (const { key, value } of entries) {
      this.remove(key);
      const bytes = value.byteLength + key.length * 2;
      if (bytes > this.maxBytes) continue; // would evict everything and still not fit
      // Room is made before the entry goes in, so that the entry just stored is never what goes.
      this.evict(this.maxBytes - bytes);
      // A small Buffer may be a view of a shared 8 KiB pool slab: hold a copy of its own, so that the
      // bytes counted are the bytes kept alive.
      const own = value.byteLength === value.buffer.byteLength ? value : ownCopy(value);
      this.entries.set(key, { value: own, expires, bytes, used: false });
      this.held += bytes;
    }
  }

  decoded<T>(key: string, value: Buffer, decode: () => Decoded<T>): T {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.value !== value) return decode().value;
    if (!('decoded' in entry)) {
      const made = decode();
      entry.decoded = made.value;
      entry.bytes += made.bytes;
      this.held += made.bytes;
      this.evict(this.maxBytes);
    }
    return entry.decoded as T;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.held = 0;
  }

  /**
   * Down to `bound` bytes: each marked entry met gets a second chance at the young end, the first
   * unmarked one goes. The loop ends: a second chance clears the mark, so a full round meets an
   * unmarked entry.
   */
  private evict(bound: number): void {
    const now = this.now();
    while (this.held > bound) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Held];
      this.entries.delete(oldest);
      if (entry.used && entry.expires > now) {
        entry.used = false;
        this.entries.set(oldest, entry);
      } else {
        this.held -= entry.bytes;
      }
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.held -= entry.bytes;
  }
}

function ownCopy(value: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(value.byteLength);
  value.copy(copy);
  return copy;
}

// The default backend: extents in this process, least recently used first out, bounded in bytes (the
// stored values plus their keys). In `serve` it lives as long as the server; in a function, as long as
// the warm instance.
import type { CacheBackend, StoredEntry } from './backend.ts';

/** 64 MiB: an eighth of a 512 MB Lambda, many dashboards' worth of extents. */
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;

interface Held {
  readonly value: Buffer;
  readonly expires: number;
  readonly bytes: number;
}

export class MemoryBackend implements CacheBackend {
  readonly kind = 'memory';
  /** A Map iterates in insertion order: re-inserting on use keeps the least recently used first. */
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
      this.entries.delete(key);
      if (entry.expires <= now) {
        this.held -= entry.bytes;
        return null;
      }
      this.entries.set(key, entry);
      return entry.value;
    });
  }

  async set(entries: readonly StoredEntry[], ttlSeconds: number): Promise<void> {
    const expires = this.now() + ttlSeconds * 1000;
    for (const { key, value } of entries) {
      this.remove(key);
      const bytes = value.byteLength + key.length * 2;
      if (bytes > this.maxBytes) continue; // would evict everything and still not fit
      // A small Buffer may be a view of a shared 8 KiB pool slab: hold a copy of its own, so that the
      // bytes counted are the bytes kept alive.
      const own = value.byteLength === value.buffer.byteLength ? value : ownCopy(value);
      this.entries.set(key, { value: own, expires, bytes });
      this.held += bytes;
      for (const [oldest, entry] of this.entries) {
        if (this.held <= this.maxBytes) break;
        this.entries.delete(oldest);
        this.held -= entry.bytes;
      }
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.held = 0;
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

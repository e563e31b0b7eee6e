// Where extents are stored: in this process (bounded in bytes) or in Redis/Valkey, shared by every
// router instance. The results cache treats any backend as unreliable: each call has a time limit,
// and whatever fails is a miss.

export interface CacheBackend {
  /** `memory` or `redis`, for log lines. */
  readonly kind: string;
  /** Holds its values in this process, so a call cannot hang (no time limit is set on it). */
  readonly inProcess: boolean;
  /** The stored values of `keys`, in order; null where a key holds nothing. Rejects when it cannot tell. */
  get(keys: readonly string[], timeoutMs: number): Promise<(Buffer | null)[]>;
  /** Stores the entries, each kept for at most `ttlSeconds`. */
  set(entries: readonly StoredEntry[], ttlSeconds: number, timeoutMs: number): Promise<void>;
  /** Lets go of connections (the process may then exit). */
  close(): Promise<void>;
  /**
   * What `decode` makes of a value this backend just gave for `key`, kept beside it where the backend
   * holds values in this process (so each is decoded once, its size counted in the backend's bound).
   * Absent where values are sent over the wire: each read is then decoded afresh.
   */
  decoded?<T>(key: string, value: Buffer, decode: () => Decoded<T>): T;
}

/** A decoded value and the memory it holds beyond the stored bytes (an estimate: objects and strings). */
export interface Decoded<T> {
  readonly value: T;
  readonly bytes: number;
}

export interface StoredEntry {
  readonly key: string;
  readonly value: Buffer;
}

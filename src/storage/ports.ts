/**
 * The only way any service reaches storage. Adapters (sqlite/, fs/, later
 * postgres/) implement these ports and must pass contract.suite.ts.
 *
 * MetadataStore is an ordered key-value store with namespaces and
 * transactions: each service builds its tables on top of it (keys chosen so
 * that a range scan is the listing it needs). Keys compare as UTF-8 bytes
 * (S3's listing order). Values are any structured-clonable value (objects,
 * arrays, strings, numbers, bigint, Date, Uint8Array, Map, Set) and come back
 * equal, never shared with the caller.
 */

export type StoredValue = unknown;

export interface ScanOptions {
  /** Only keys starting with this prefix. */
  prefix?: string;
  /** Keys >= start (after prefix filtering). */
  start?: string;
  /** Keys > startAfter. */
  startAfter?: string;
  /** Keys < end. */
  end?: string;
  /** Descending order. */
  reverse?: boolean;
  /** At most this many entries. */
  limit?: number;
}

export interface KvEntry<V = StoredValue> {
  key: string;
  value: V;
}

export interface ReadTx {
  get<V = StoredValue>(ns: string, key: string): Promise<V | undefined>;
  scan<V = StoredValue>(ns: string, opts?: ScanOptions): Promise<KvEntry<V>[]>;
  /** Number of keys matching (for quotas/limits), same filters as scan without limit. */
  count(ns: string, opts?: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number>;
}

export interface WriteTx extends ReadTx {
  put(ns: string, key: string, value: StoredValue): Promise<void>;
  /** Returns whether the key existed. */
  delete(ns: string, key: string): Promise<boolean>;
  /** Deletes every key matching; returns how many. */
  deleteRange(ns: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number>;
}

export interface MetadataStore {
  /** A consistent snapshot read. */
  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T>;
  /**
   * One atomic, serializable transaction. When the returned promise resolves
   * the change is durable (committed and fsync'd). If fn throws, nothing of it
   * is applied and the error is rethrown. fn must only await the tx (no
   * network or file I/O inside a transaction).
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface BlobWriteResult {
  /** Store-chosen id: never derived from client input. */
  id: string;
  size: number;
}

export interface BlobInfo {
  id: string;
  size: number;
  createdAt: Date;
}

export interface ByteRange {
  /** Inclusive. */
  start: number;
  /** Inclusive. */
  end: number;
}

export interface BlobStore {
  /**
   * Streams `source` to a temp file, fsyncs, renames atomically into place.
   * Rejects (leaving nothing behind) if the source errors or `signal` aborts,
   * or if more than `maxBytes` arrive.
   */
  write(
    source: AsyncIterable<Uint8Array>,
    opts?: { signal?: AbortSignal; maxBytes?: number },
  ): Promise<BlobWriteResult>;
  /** Streams a blob, or an inclusive byte range of it. */
  read(id: string, range?: ByteRange): AsyncIterable<Uint8Array> & NodeJS.ReadableStream;
  /**
   * A blob (or an inclusive byte range of it) in chunks of exactly
   * `chunkBytes` (only the last may be shorter, and it is shorter also when
   * the blob ends before the range does), read into buffers the store reuses:
   * a chunk is valid only until the iterator is advanced again. For a
   * consumer that turns each chunk into new memory at once (decryption, a
   * parser of fixed-size records): no fresh buffer per chunk to allocate and
   * fault in, and the chunk size lines up with the records so none is cut.
   * The next chunk is read while the consumer holds the current one; with
   * `ahead` > 1, that many chunks are read at once (in order, never past the
   * range), so a consumer is not held up by one read's latency at a time.
   */
  readChunks(id: string, range: ByteRange | undefined, chunkBytes: number, ahead?: number): AsyncIterable<Uint8Array>;
  /**
   * The local file that holds a blob, for a reader on another thread (the
   * encrypted GET's worker reads and opens frames there). Absent when blobs
   * are not plain files; the blob must be held against deletion meanwhile.
   */
  filePath?(id: string): string;
  size(id: string): Promise<number | undefined>;
  /** Idempotent. */
  delete(id: string): Promise<void>;
  /** Removes temp files a crash left behind; called once at start. */
  cleanup(): Promise<void>;
  /**
   * Every stored blob, in no particular order: for a sweep that deletes
   * orphans (blobs no metadata refers to, left by a crash between a blob
   * write and its metadata commit). A sweep must skip blobs younger than any
   * write in progress could be (`createdAt`). Optional so that test doubles
   * need not implement it; every adapter in storage/ does.
   */
  list?(): AsyncIterable<BlobInfo>;
  close(): Promise<void>;
}

/** Where one entry of a StreamLog lane sits: store-chosen numbers, never a path. */
export interface LogPointer {
  segment: number;
  /** Byte offset of the entry's frame in its segment. */
  offset: number;
  /** The entry's length (its bytes, without the frame). */
  length: number;
}

export interface LogSegmentInfo {
  lane: string;
  segment: number;
  bytes: number;
  /** The mark() of its last append in this process (0: none since open). */
  lastAppend: number;
}

/**
 * Append-only byte logs, one lane per caller-chosen key (`kinesis-<stream
 * id>`: never a client-supplied name; a lane's owner sweeps only its own
 * prefix), each a series of segments the store names and rotates. For
 * large values written once and read back by pointer: the bytes go to disk
 * once, the MetadataStore row holds only the LogPointer.
 *
 * Durability — the invariant the pair keeps: a committed pointer never names
 * bytes that are not durable. append() only writes to the page cache; the
 * MetadataStore syncs the log (sync()) before every commit (the embedded
 * store is opened with `beforeCommit: () => log.sync()`), so a pointer
 * committed in a transaction names bytes fsync'd before that COMMIT. Hence:
 * append only inside the write transaction that stores the pointer. A crash
 * between the sync and the COMMIT leaves bytes no row names: garbage for
 * the sweep, never a dangling pointer. One sync per group commit, whatever
 * the number of entries.
 *
 * Space: a lane's entries are released oldest first (records expire in
 * order), so a sweep needs only each live lane's oldest referenced segment
 * (storage/stream-log-sweep.ts). A segment appended to after a sweep's
 * mark() is never deleted by that sweep.
 */
export interface StreamLog {
  /**
   * Appends one entry (framed with its length and CRC) to the lane's open
   * segment, in the page cache: durable after the next sync(). Synchronous.
   * A lane is 1–64 of [A-Za-z0-9_-].
   */
  append(lane: string, bytes: Uint8Array): LogPointer;
  /** One entry's bytes; throws if the segment is gone or the frame or CRC does not match. Synchronous. */
  read(lane: string, p: LogPointer): Uint8Array;
  /** fdatasyncs every segment appended to since the last sync (and new names' directories). Synchronous; throws on an I/O error. */
  sync(): void;
  /** A number every later append exceeds (for sweeps). */
  mark(): number;
  /** Every segment of every lane. */
  list(): LogSegmentInfo[];
  /** Deletes a segment unless it was appended to after `mark`; returns whether it did. */
  deleteSegment(lane: string, segment: number, mark: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface Stores {
  metadata: MetadataStore;
  blobs: BlobStore;
  /** Absent in test doubles; Kinesis then keeps record bytes inside its rows. */
  streamLog?: StreamLog;
}

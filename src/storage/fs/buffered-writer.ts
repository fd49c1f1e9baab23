/**
 * Writes a stream of chunks to a file in large sequential writes.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered before one write(2): big sequential writes, bounded memory. */
const WRITE_BUFFER = 1024 * 1024;
/** The first buffer's smallest size (4 KiB: Node's pool is not used, so nothing else is kept alive by it). */
const FIRST_BUFFER = 4 * 1024;
/**
 * The file is opened once this many bytes have come (or at finish): an upload that has sent only a
 * few bytes — thousands of slow bodies at once, or a body cut before it arrived — costs neither a
 * file nor a descriptor nor a large buffer, only what it sent.
 */
const OPEN_AT = 64 * 1024;

/**
 * Copies incoming chunks into two alternating 1 MiB buffers and writes one
 * while the other fills, so receiving and writing overlap. Copying (instead of
 * holding the caller's chunks) makes it safe for a source to reuse its buffer
 * after yielding it. The first buffer starts small (as small as the first
 * chunk) and grows, so a small blob never costs more than a small allocation,
 * and the file is opened only when the bytes call for it (OPEN_AT): memory
 * stays bounded by the two buffers either way.
 */
export class BufferedFileWriter {
  private buffers: Buffer[] = [];
  private current = 0;
  private filled = 0;
  private inFlight: Promise<void> = Promise.resolve();
  /** The first failed write: every later step rethrows it. */
  private failed: Error | undefined;
  private fh: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;

  /** `openFile` is called at most once, when the first bytes must reach the file (or at finish). */
  constructor(private readonly openFile: () => Promise<FileHandle>) {}

  async push(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      let buf = this.buffers[this.current] ?? this.first(chunk.byteLength - offset);
      if (this.filled === buf.byteLength && buf.byteLength < WRITE_BUFFER) buf = this.grow(buf);
      const n = Math.min(buf.byteLength - this.filled, chunk.byteLength - offset);
      buf.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === buf.byteLength && buf.byteLength === WRITE_BUFFER) await this.flip();
    }
    // Open while more bytes come, so the first write does not wait for it.
    if (this.opening === undefined && this.filled >= OPEN_AT) this.handle().catch(() => undefined);
  }

  private first(want: number): Buffer {
    const b = Buffer.allocUnsafe(Math.min(WRITE_BUFFER, Math.max(FIRST_BUFFER, want)));
    this.buffers[this.current] = b;
    return b;
  }

  private grow(buf: Buffer): Buffer {
    const bigger = Buffer.allocUnsafe(Math.min(buf.byteLength * 4, WRITE_BUFFER));
    buf.copy(bigger, 0, 0, this.filled);
    this.buffers[this.current] = bigger;
    return bigger;
  }

  /** The file, opened on first use. */
  private handle(): Promise<FileHandle> {
    this.opening ??= this.openFile().then((fh) => (this.fh = fh));
    return this.opening;
  }

  /** Writes what is left and returns the file (opened now if no write needed it yet, e.g. an empty blob). */
  async finish(): Promise<FileHandle> {
    await this.flip();
    await this.inFlight;
    if (this.failed !== undefined) throw this.failed;
    return this.handle();
  }

  /** Starts writing the full buffer; waits only for the write before it. */
  private async flip(): Promise<void> {
    await this.inFlight;
    if (this.failed !== undefined) throw this.failed;
    if (this.filled === 0) return;
    const fh = await this.handle();
    const data = (this.buffers[this.current] as Buffer).subarray(0, this.filled);
    this.inFlight = this.writeAll(fh, data).catch((e: unknown) => {
      this.failed = e as Error;
    });
    this.current ^= 1;
    this.buffers[this.current] ??= Buffer.allocUnsafe(WRITE_BUFFER);
    this.filled = 0;
  }

  private async writeAll(fh: FileHandle, data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await fh.write(data, done, data.byteLength - done, null);
      done += bytesWritten;
    }
  }

  /**
   * Giving up: waits for the write in flight and for an open in progress, ignoring their outcome;
   * returns the file if it was opened (the caller closes and removes it), undefined if it never was.
   */
  async settle(): Promise<FileHandle | undefined> {
    await this.inFlight;
    await this.opening?.catch(() => undefined);
    return this.fh;
  }
}

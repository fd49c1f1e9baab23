/**
 * Writes a stream of chunks to a file in large sequential writes.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered before one write(2): big sequential writes, bounded memory. */
const WRITE_BUFFER = 1024 * 1024;
/** Small blobs are the common case: do not allocate megabytes for 4 KiB. */
const FIRST_BUFFER = 64 * 1024;

/**
 * Copies incoming chunks into two alternating 1 MiB buffers and writes one
 * while the other fills, so receiving and writing overlap. Copying (instead of
 * holding the caller's chunks) makes it safe for a source to reuse its buffer
 * after yielding it. The first buffer starts small and grows, so a small
 * blob never costs more than a small allocation.
 */
export class BufferedFileWriter {
  private buffers: Buffer[] = [Buffer.allocUnsafe(FIRST_BUFFER)];
  private current = 0;
  private filled = 0;
  private inFlight: Promise<void> = Promise.resolve();
  /** The first failed write: every later step rethrows it. */
  private failed: Error | undefined;

  constructor(private readonly fh: FileHandle) {}

  async push(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      let buf = this.buffers[this.current] as Buffer;
      if (this.filled === buf.byteLength && buf.byteLength < WRITE_BUFFER) buf = this.grow(buf);
      const n = Math.min(buf.byteLength - this.filled, chunk.byteLength - offset);
      buf.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === buf.byteLength && buf.byteLength === WRITE_BUFFER) await this.flip();
    }
  }

  private grow(buf: Buffer): Buffer {
    const bigger = Buffer.allocUnsafe(Math.min(buf.byteLength * 4, WRITE_BUFFER));
    buf.copy(bigger, 0, 0, this.filled);
    this.buffers[this.current] = bigger;
    return bigger;
  }

  async finish(): Promise<void> {
    await this.flip();
    await this.inFlight;
    if (this.failed !== undefined) throw this.failed;
  }

  /** Starts writing the full buffer; waits only for the write before it. */
  private async flip(): Promise<void> {
    await this.inFlight;
    if (this.failed !== undefined) throw this.failed;
    if (this.filled === 0) return;
    const data = (this.buffers[this.current] as Buffer).subarray(0, this.filled);
    this.inFlight = this.writeAll(data).catch((e: unknown) => {
      this.failed = e as Error;
    });
    this.current ^= 1;
    this.buffers[this.current] ??= Buffer.allocUnsafe(WRITE_BUFFER);
    this.filled = 0;
  }

  private async writeAll(data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await this.fh.write(data, done, data.byteLength - done, null);
      done += bytesWritten;
    }
  }

  /** Waits for the write in flight, ignoring its outcome (used when giving up). */
  async settle(): Promise<void> {
    await this.inFlight;
  }
}


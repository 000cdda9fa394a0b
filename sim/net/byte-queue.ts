/** A FIFO of bytes kept as a list of chunks: append at the tail, read at any offset, drop from the head. */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private headOffset = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.len += data.length;
  }

  /** Copy `count` bytes starting `offset` bytes after the head. */
  peek(offset: number, count: number): Uint8Array {
    count = Math.max(0, Math.min(count, this.len - offset));
    const out = new Uint8Array(count);
    let skip = offset + this.headOffset;
    let written = 0;
    for (const c of this.chunks) {
      if (written >= count) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, count - written);
      out.set(c.subarray(skip, skip + take), written);
      written += take;
      skip = 0;
    }
    return out;
  }

  /** Discard `count` bytes from the head. */
  drop(count: number): void {
    count = Math.min(count, this.len);
    this.len -= count;
    while (count > 0) {
      const c = this.chunks[0]!;
      const avail = c.length - this.headOffset;
      if (count < avail) {
        this.headOffset += count;
        return;
      }
      count -= avail;
      this.chunks.shift();
      this.headOffset = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.headOffset = 0;
    this.len = 0;
  }
}

import { Readable, Transform, type TransformCallback } from 'node:stream';

// A request body on its way upstream, kept so a retry can send it again (Envoy buffers the
// request for retries up to its buffer limit). The body streams through unchanged; the copy is
// references to the chunks, dropped as soon as the body outgrows the limit (no retry then).

/** Envoy's default per-connection buffer limit (1 MiB), which bounds what a retry can replay. */
export const RETRY_BUFFER_LIMIT = 1024 * 1024;

export class ReplayBuffer extends Transform {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  private complete = false;

  constructor(private readonly limit: number = RETRY_BUFFER_LIMIT) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.overflowed) {
      this.size += chunk.length;
      if (this.size > this.limit) {
        this.overflowed = true;
        this.chunks = [];
      } else this.chunks.push(chunk);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.complete = true;
    done();
  }

  /** The whole body went through and fits the limit. */
  get replayable(): boolean {
    return this.complete && !this.overflowed;
  }

  /** The body again, for the next try. */
  replay(): Readable {
    return Readable.from(this.chunks, { objectMode: false });
  }
}

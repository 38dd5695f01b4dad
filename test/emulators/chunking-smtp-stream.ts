import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';

type Next = (err?: Error | null) => void;

/** Where the bytes of one BDAT chunk go, and what happens once they are all in. */
export interface ChunkSink {
  /** Called with each piece of the chunk, in order. */
  write(bytes: Buffer): void;
  /** Called once the whole chunk is in; call `resume` after the reply is sent to read on. */
  end(resume: () => void): void;
}

/**
 * smtp-server's input parser, taught two things it does not know:
 *
 * - BDAT (RFC 3030): after `BDAT <n>`, exactly n bytes are message data, taken as they are (no dot
 *   stuffing, no end marker), then the parser reads commands again. smtp-server has no BDAT and no
 *   hook for a byte-counted mode, so the chunk rides on its data mode: the same switch its command
 *   loop checks after every command, with the bytes routed here instead of into DATA's unstuffing.
 * - How much input is already waiting behind the command being handled, so the emulator can refuse
 *   input a real server would call a protocol synchronization error (a message body sent before
 *   the 354, commands pipelined to a server that does not offer PIPELINING). Counted in bytes of
 *   the command lines as CRLF-terminated; a client ending lines with a bare LF is under-counted,
 *   never over-counted, so a legal client is never refused.
 */
export class ChunkingSmtpStream extends SMTPStream {
  #chunk: { remaining: number; sink: ChunkSink } | undefined;
  /** Command-mode bytes received and not yet dispatched as a command line. */
  #waiting = 0;

  /** Input that arrived behind the command line being handled (0 when it came alone). */
  get inputWaiting(): number {
    return Math.max(0, this.#waiting);
  }

  /** Counts a dispatched command line out of the waiting input. */
  commandTaken(line: Buffer): void {
    this.#waiting -= line.length + 2;
  }

  /**
   * Takes the next `size` bytes as one BDAT chunk. Call from the BDAT handler before its callback:
   * the command loop then hands the rest of the input to the chunk.
   */
  startChunk(size: number, sink: ChunkSink): void {
    this.#waiting = 0;
    if (size === 0) {
      sink.end(() => {});
      return;
    }
    this.#chunk = { remaining: size, sink };
    this._dataMode = true;
  }

  override startDataMode(maxBytes?: number | string | null) {
    this.#waiting = 0;
    return super.startDataMode(maxBytes);
  }

  override _write(chunk: Buffer, encoding: BufferEncoding | 'buffer', next: Next): void {
    if (!this._dataMode) this.#waiting += chunk.length;
    super._write(chunk, encoding, next);
  }

  override _feedDataStream(chunk: Buffer, done: Next): void {
    const current = this.#chunk;
    if (!current) {
      super._feedDataStream(chunk, done);
      return;
    }
    const take = Math.min(current.remaining, chunk.length);
    current.sink.write(chunk.subarray(0, take));
    current.remaining -= take;
    if (current.remaining > 0) {
      done();
      return;
    }
    this.#chunk = undefined;
    this._dataMode = false;
    const rest = chunk.subarray(take);
    // Nothing after the chunk is read before its reply is out: replies keep the commands' order.
    current.sink.end(() => {
      if (rest.length > 0) this._write(rest, 'buffer', done);
      else done();
    });
  }
}

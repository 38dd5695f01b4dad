/**
 * Cuts the bytes an SMTP server sends into replies (RFC 5321 §4.2): lines up to LF, a reply ends
 * with the line whose code is followed by a space (or nothing), `250-` lines continue it. Text is
 * UTF-8 (SMTPUTF8 servers may send it); a multi-line reply's lines are joined by `\n`, as
 * nodemailer reports them.
 */
export interface SmtpReplyLine {
  /** The basic code, e.g. 250. */
  code: number;
  /** The whole reply, code included, lines joined by `\n`. */
  text: string;
}

/** Longest reply kept while waiting for its end; a server that sends more is broken. */
const MAX_REPLY_BYTES = 64 * 1024;
const LF = 0x0a;

export class SmtpReplyReader {
  #partial: Buffer | undefined;
  #lines: string[] = [];

  /** Replies completed by `chunk`, in order. Throws when a reply grows past 64 KB. */
  push(chunk: Buffer): SmtpReplyLine[] {
    const data = this.#partial ? Buffer.concat([this.#partial, chunk]) : chunk;
    this.#partial = undefined;
    const replies: SmtpReplyLine[] = [];
    let start = 0;
    for (let end = data.indexOf(LF); end >= 0; end = data.indexOf(LF, start)) {
      const stop = end > start && data[end - 1] === 0x0d ? end - 1 : end;
      const line = data.toString('utf8', start, stop);
      start = end + 1;
      if (line.length === 0) continue;
      this.#lines.push(line);
      if (line.length > 3 && line[3] === '-') continue;
      const text = this.#lines.length === 1 ? line : this.#lines.join('\n');
      this.#lines = [];
      replies.push({ code: Number.parseInt(line.slice(0, 3), 10) || 0, text });
    }
    if (start < data.length) this.#partial = data.subarray(start);
    const held =
      (this.#partial?.length ?? 0) + this.#lines.reduce((sum, line) => sum + line.length, 0);
    if (held > MAX_REPLY_BYTES) throw new Error('Server response exceeds maximum allowed size');
    return replies;
  }
}

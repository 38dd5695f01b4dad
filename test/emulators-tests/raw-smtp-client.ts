import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

/**
 * A minimal line-based SMTP client for exact transcripts: nodemailer hides reply texts and
 * refuses protocol mistakes (AUTH before TLS) that these tests need to make on purpose.
 */
export class RawSmtpClient {
  #socket: Socket | TLSSocket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  /** Connects and returns the client with the greeting already read. */
  static async open(
    port: number,
    implicitTls = false,
  ): Promise<{ client: RawSmtpClient; greeting: string }> {
    const socket = implicitTls
      ? tlsConnect({ host: '127.0.0.1', port, servername: 'localhost' })
      : netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(implicitTls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawSmtpClient(socket);
    return { client, greeting: await client.reply() };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Reads one (possibly multi-line) reply, lines joined by `\n`. */
  async reply(): Promise<string> {
    for (;;) {
      const end = this.#completeReplyEnd();
      if (end >= 0) {
        const text = this.#buffer.slice(0, end).replace(/\r\n$/, '');
        this.#buffer = this.#buffer.slice(end);
        return text.split('\r\n').join('\n');
      }
      if (this.#closed)
        throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** STARTTLS and the TLS handshake (verifying the server against the trusted CAs). */
  async startTls(): Promise<string> {
    const reply = await this.command('STARTTLS');
    if (!reply.startsWith('220 ')) return reply;
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#listen(secure);
    return reply;
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.#closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    this.#socket.destroy();
  }

  #listen(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Index just past the last line of the first complete reply, or -1. */
  #completeReplyEnd(): number {
    let start = 0;
    for (;;) {
      const eol = this.#buffer.indexOf('\r\n', start);
      if (eol < 0) return -1;
      const line = this.#buffer.slice(start, eol);
      if (/^\d{3}( |$)/.test(line)) return eol + 2;
      start = eol + 2;
    }
  }
}

import { isIP, connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import {
  checkServerIdentity,
  type PeerCertificate,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import type { SmtpSettings } from '../config/sender-config.ts';
import type { ExplainFailure, NetworkTarget } from './check-network.ts';
import { failed, failureFromError, ok, type StepResult } from './doctor-step.ts';

/** A certificate expiring sooner than this is worth a warning. */
const EXPIRY_WARNING_DAYS = 14;

/**
 * Step 4: STARTTLS (or implicit TLS) with the facts an operator asks for: protocol, cipher,
 * certificate subject, issuer, days to expiry, and whether it verifies. Why not nodemailer's
 * SMTPConnection: it does not expose the TLS socket, and it hangs up on an unverifiable
 * certificate before we could say which one it was. This probe sends only EHLO, STARTTLS and
 * QUIT (never credentials), so it may finish the handshake to read the certificate and then
 * judge it itself: same trust store, same host-name check as the sender.
 */
export async function checkTls(smtp: SmtpSettings): Promise<StepResult> {
  let tls: TLSSocket | undefined;
  try {
    tls = smtp.tls === 'implicit' ? await implicitTls(smtp) : await startTls(smtp);
    return describe(smtp.host, tls, failureFromError);
  } catch (error) {
    return failed('tls', failureFromError(error));
  } finally {
    if (tls) {
      tls.write('QUIT\r\n');
      tls.end();
      tls.destroy();
    }
  }
}

/**
 * Step 4 for an HTTPS host (Graph): the TLS handshake on its port and the same judgement of the
 * certificate. Sends nothing over the connection.
 */
export async function checkHttpsTls(
  target: NetworkTarget,
  explain: ExplainFailure,
): Promise<StepResult> {
  let tls: TLSSocket | undefined;
  try {
    tls = await handshake(target, { host: target.host, port: target.port });
    return describe(target.host, tls, explain);
  } catch (error) {
    return failed('tls', explain(error));
  } finally {
    tls?.destroy();
  }
}

function describe(host: string, tls: TLSSocket, explain: ExplainFailure): StepResult {
  const cert = tls.getPeerCertificate();
  const protocol = tls.getProtocol() ?? 'unknown';
  const cipher = tls.getCipher()?.name ?? 'unknown';
  const daysLeft = Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000);
  const identityError = isIP(host) ? undefined : checkServerIdentity(host, cert);
  const verifyError = tls.authorizationError ?? identityError;
  const details = [
    `${protocol} (${cipher})`,
    `certificate ${name(cert.subject)}, issued by ${name(cert.issuer)}`,
    `valid until ${new Date(cert.valid_to).toISOString().slice(0, 10)} (${daysLeft} days)`,
    verifyError
      ? `NOT verified: ${String(verifyError)}`
      : 'verified (trusted issuer, host name matches)',
  ];
  if (verifyError) {
    const code = (verifyError as { code?: string }).code ?? String(verifyError);
    const error = Object.assign(new Error(`certificate check failed: ${String(verifyError)}`), {
      code: 'ETLS',
      originalCode: code,
      command: 'CONN',
    });
    return failed('tls', explain(error), details);
  }
  const warnings =
    daysLeft < EXPIRY_WARNING_DAYS ? [`the certificate expires in ${daysLeft} days`] : [];
  return ok('tls', details, warnings);
}

async function startTls(smtp: SmtpSettings): Promise<TLSSocket> {
  const socket = netConnect({ host: smtp.host, port: smtp.port });
  const replies = new ReplyReader(socket, smtp.greetingTimeoutMs);
  await once(socket, 'connect', smtp.connectionTimeoutMs);
  await replies.expect(220, 'GREETING');
  socket.write(`EHLO ${ehloName()}\r\n`);
  const ehlo = await replies.expect(250, 'EHLO');
  if (!/^250[ -]STARTTLS\b/im.test(ehlo)) {
    socket.destroy();
    throw Object.assign(
      new Error(`Server does not support required STARTTLS (EHLO offered: ${capabilities(ehlo)})`),
      { code: 'ETLS', command: 'STARTTLS' },
    );
  }
  socket.write('STARTTLS\r\n');
  const reply = await replies.expect(220, 'STARTTLS').catch((error: Error) => {
    throw Object.assign(new Error(`Error upgrading connection with STARTTLS: ${error.message}`), {
      code: 'ETLS',
      command: 'STARTTLS',
    });
  });
  void reply;
  replies.detach();
  return handshake(smtp, { socket });
}

async function implicitTls(smtp: SmtpSettings): Promise<TLSSocket> {
  const tls = await handshake(smtp, { host: smtp.host, port: smtp.port });
  const replies = new ReplyReader(tls, smtp.greetingTimeoutMs);
  await replies.expect(220, 'GREETING');
  replies.detach();
  return tls;
}

function handshake(
  smtp: NetworkTarget,
  target: { socket: Socket } | { host: string; port: number },
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      ...target,
      ...(isIP(smtp.host) ? {} : { servername: smtp.host }),
      minVersion: 'TLSv1.2',
      // Judged in describe() after the handshake, so the report can name the certificate.
      rejectUnauthorized: false,
    });
    tls.setTimeout(smtp.connectionTimeoutMs, () =>
      tls.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })),
    );
    tls.once('secureConnect', () => {
      tls.setTimeout(0);
      resolve(tls);
    });
    tls.once('error', (error: NodeJS.ErrnoException) =>
      reject(Object.assign(error, { originalCode: error.code, code: 'ETLS', command: 'CONN' })),
    );
  });
}

/** Reads SMTP replies (multi-line ones whole) from a socket. */
class ReplyReader {
  #buffer = '';
  #waiting: ((reply: string) => void) | undefined;
  #failed: ((error: Error) => void) | undefined;
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer += chunk.toString('latin1');
    this.#deliver();
  };
  readonly #onError = (error: NodeJS.ErrnoException) => {
    this.#failed?.(Object.assign(error, { originalCode: error.code, code: 'ESOCKET' }));
  };
  readonly #onEnd = () => {
    this.#failed?.(
      Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' }),
    );
  };

  constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('end', this.#onEnd);
  }

  /** The next reply; rejects when its code is not `code`, with the reply as an SMTP error. */
  expect(code: number, command: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#socket.destroy();
        reject(
          Object.assign(new Error(`No reply to ${command} within ${this.#timeoutMs} ms`), {
            code: 'ETIMEDOUT',
            command,
          }),
        );
      }, this.#timeoutMs);
      this.#failed = (error) => {
        clearTimeout(timer);
        reject(Object.assign(error, { command }));
      };
      this.#waiting = (reply) => {
        clearTimeout(timer);
        if (reply.startsWith(String(code))) return resolve(reply);
        const last = reply.trim().split(/\r?\n/).pop() ?? reply;
        reject(
          Object.assign(new Error(`Unexpected reply to ${command}: ${last}`), {
            code: 'EPROTOCOL',
            response: last,
            responseCode: Number(last.slice(0, 3)),
            command,
          }),
        );
      };
      this.#deliver();
    });
  }

  detach(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('error', this.#onError);
    this.#socket.off('end', this.#onEnd);
  }

  #deliver(): void {
    // A reply ends with a line whose fourth character is a space ("250 ..."), not a dash.
    const match = /(?:^|\n)\d{3}(?: [^\n]*)?\r?\n/.exec(this.#buffer);
    if (!match || !this.#waiting) return;
    const end = match.index + match[0].length;
    const reply = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.slice(end);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting(reply);
  }
}

function once(socket: Socket, event: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        Object.assign(new Error(`Connection timeout after ${timeoutMs} ms`), {
          code: 'ETIMEDOUT',
          command: 'CONN',
        }),
      );
    }, timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(Object.assign(error, { originalCode: error.code, code: 'ESOCKET', command: 'CONN' }));
    });
  });
}

function capabilities(ehlo: string): string {
  return ehlo
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.slice(4).trim())
    .filter(Boolean)
    .join(', ');
}

function name(entity: PeerCertificate['subject'] | undefined): string {
  if (!entity) return 'unknown';
  const parts = [entity.CN && `CN=${entity.CN}`, entity.O && `O=${entity.O}`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'unknown';
}

function ehloName(): string {
  const host = hostname();
  return /^[A-Za-z0-9.-]+$/.test(host) ? host : 'localhost';
}

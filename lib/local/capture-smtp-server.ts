import { EventEmitter } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** One message the capture server accepted and saved. */
export interface CapturedMessage {
  /** Path of the saved `.eml` file. */
  file: string;
  envelope: { from: string; to: string[] };
}

/** A reply the capture server gives instead of accepting, e.g. `550 5.1.10 ...`. */
export interface ScriptedReply {
  code: number;
  /** The text after the code, enhanced status code first (e.g. `5.1.10 RESOLVER...`). */
  message: string;
}

/** Options of {@link startCaptureSmtpServer}. */
export interface CaptureSmtpServerOptions {
  /** Folder the `.eml` files go to (created when missing). */
  outboxDir: string;
  /** Certificate and key for STARTTLS. The server refuses MAIL FROM before STARTTLS, as Office 365 does. */
  tls: { certPem: string; keyPem: string };
  /** @default 0 (a free port) */
  port?: number;
  /** Demo behaviour: RCPT TO for these addresses is refused with the given reply. @default {} */
  refuseRecipients?: Record<string, ScriptedReply>;
  /**
   * Demo behaviour: the first message to each of these addresses is refused at the end of DATA
   * with the given reply (a temporary one, so the sender retries); later attempts are accepted.
   * @default {}
   */
  throttleFirstAttempt?: Record<string, ScriptedReply>;
}

/** A running capture server on 127.0.0.1. Emits `message` with a {@link CapturedMessage}. */
export interface CaptureSmtpServer extends EventEmitter<{ message: [CapturedMessage] }> {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly messages: readonly CapturedMessage[];
  stop(): Promise<void>;
}

/** The replies the demo's special recipients get (docs/local-development.md describes them). */
export const DEMO_UNKNOWN_RECIPIENT = 'unknown@example.invalid';
export const DEMO_THROTTLED_RECIPIENT = 'throttled@example.com';
export const DEMO_REFUSALS: Record<string, ScriptedReply> = {
  [DEMO_UNKNOWN_RECIPIENT]: {
    code: 550,
    message: '5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
  },
};
export const DEMO_THROTTLES: Record<string, ScriptedReply> = {
  [DEMO_THROTTLED_RECIPIENT]: {
    code: 432,
    message: '4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
  },
};

/**
 * Starts a local SMTP server that accepts every message (after STARTTLS) and saves it as an
 * `.eml` file, so a developer sees exactly what the sender would hand to Office 365.
 * No AUTH: the local pipeline runs the sender with `SMTP_AUTH=none`.
 */
export async function startCaptureSmtpServer(
  options: CaptureSmtpServerOptions,
): Promise<CaptureSmtpServer> {
  await mkdir(options.outboxDir, { recursive: true });
  const refusals = lowerKeys(options.refuseRecipients ?? {});
  const throttles = lowerKeys(options.throttleFirstAttempt ?? {});
  const throttled = new Set<string>();
  const events = new EventEmitter<{ message: [CapturedMessage] }>();
  const messages: CapturedMessage[] = [];
  let sequence = 0;

  const server = new SMTPServer({
    name: 'localhost',
    banner: 'o365-mail-queue local capture (messages are saved, never delivered)',
    key: options.tls.keyPem,
    cert: options.tls.certPem,
    disabledCommands: ['AUTH'],
    authOptional: true,
    // Replies below carry their own enhanced codes; smtp-server would otherwise prepend generic ones.
    hideENHANCEDSTATUSCODES: true,
    size: 157_286_400,
    logger: false,
    onMailFrom(_address, session, callback) {
      if (!session.secure) {
        return callback(
          replyError({ code: 451, message: '5.7.3 STARTTLS is required to send mail' }),
        );
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      const refusal = refusals.get(address.address.toLowerCase());
      callback(refusal ? replyError(refusal) : undefined);
    },
    onData(stream, session, callback) {
      const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      const throttleFor = recipients.find((r) => throttles.has(r) && !throttled.has(r));
      if (throttleFor) {
        throttled.add(throttleFor);
        stream.resume();
        stream.once('end', () => callback(replyError(throttles.get(throttleFor)!)));
        return;
      }
      const file = join(options.outboxDir, emlName(++sequence));
      pipeline(stream, createWriteStream(file))
        .then(() => {
          const captured = { file, envelope: envelopeOf(session) };
          messages.push(captured);
          callback(null, '2.0.0 OK queued as local capture');
          events.emit('message', captured);
        })
        .catch((error: unknown) => callback(error as Error));
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  server.on('error', () => {
    // A client that drops its connection must not bring the local pipeline down.
  });

  return Object.assign(events, {
    host: '127.0.0.1' as const,
    port,
    messages,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

function envelopeOf(session: SMTPServerSession): CapturedMessage['envelope'] {
  const from = session.envelope.mailFrom;
  return {
    from: from ? from.address : '',
    to: session.envelope.rcptTo.map((r) => r.address),
  };
}

/** `2026-11-22T08-30-00-123Z-0001.eml`: sorts by arrival, safe on every file system. */
function emlName(sequence: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `${stamp}-${String(sequence).padStart(4, '0')}.eml`;
}

function replyError(reply: ScriptedReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

function lowerKeys<T>(record: Record<string, T>): Map<string, T> {
  return new Map(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}

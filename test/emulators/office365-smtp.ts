import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  SMTPServer,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import {
  type AuthenticatedUser,
  type AuthRefusal,
  authenticate,
  type MailboxOptions,
} from './office365-auth.ts';
import { decorateConnection } from './office365-connection.ts';
import {
  type FrontEnd,
  newFrontEnd,
  O365_MAX_SIZE,
  O365_REPLIES,
  queuedOk,
  replyError,
  sendAsDenied,
  trailer,
} from './office365-replies.ts';
import { RateWindow } from './rate-window.ts';
import { type ReceivedMessage, readHeaders } from './received-message.ts';
import { SmtpFaults, type SmtpStage } from './smtp-faults.ts';
import { loadTestPki } from './test-pki.ts';
import type { TokenEndpoint } from './token-endpoint.ts';
import { createTokenVerifier } from './xoauth2.ts';

export type { AuthenticatedUser, AuthRefusal, MailboxOptions } from './office365-auth.ts';
export { O365_REPLIES } from './office365-replies.ts';
export type { ReceivedMessage } from './received-message.ts';
export type { SmtpStage } from './smtp-faults.ts';

export interface Office365SmtpOptions {
  /** Whose keys sign valid XOAUTH2 tokens; without it every XOAUTH2 attempt gets `535 5.7.3`. */
  tokenEndpoint?: Pick<TokenEndpoint, 'jwks'>;
  /**
   * Mailboxes of the tenant, keyed by address (case-insensitive). When omitted, any address is a
   * mailbox with default options (XOAUTH2 works for it, LOGIN does not: no password).
   */
  mailboxes?: Record<string, MailboxOptions>;
  /** Offer STARTTLS on the plain port; `false` = no STARTTLS at all (so no AUTH, no mail). @default true */
  startTls?: boolean;
  /** TLS from the first byte (port-465 style). @default false */
  implicitTls?: boolean;
  /** Messages per mailbox per sliding minute before `421 4.4.2`. @default 30 */
  ratePerMinute?: number;
  /** Recipients per mailbox per sliding 24 h before `554 5.2.0 ...SubmissionQuotaExceededException`. @default 10000 */
  recipientsPerDay?: number;
  /** Delay before every reply to connect/AUTH/MAIL/RCPT/DATA (stands in for network latency). @default 0 */
  replyDelayMs?: number;
  /** Accepted `aud` of XOAUTH2 tokens. @default 'https://outlook.office365.com' */
  audience?: string;
  /** Clock for rate windows and token expiry (ms since epoch). @default Date.now */
  now?: () => number;
  /** @default 0 (a free port) */
  port?: number;
}

/** Counters; `reset()` zeroes them in place. */
export interface SmtpStats {
  /** TCP connections accepted. */
  connections: number;
  /** TLS sessions established (STARTTLS or implicit). */
  tlsHandshakes: number;
  /** AUTH exchanges that reached a decision (valid TLS session, supported mechanism). */
  authAttempts: number;
  authSuccesses: number;
  authFailures: number;
  /** AUTH commands sent without TLS (refused; a credential may have crossed in the clear). */
  insecureAuthAttempts: number;
  /** Messages accepted (250 after DATA). */
  messages: number;
  /** Messages refused after DATA (send-as, quota, scripted reply). */
  rejectedMessages: number;
  /** Connections reset mid-DATA by `dropNextData`. */
  droppedMessages: number;
  /** MAIL FROM refused by the rate limit. */
  rateLimited: number;
  /** Command lines by verb (`EHLO`, `STARTTLS`, `AUTH`, `MAIL`, ...). */
  commands: Record<string, number>;
}

/** A running Office 365-like SMTP server on 127.0.0.1. */
export interface Office365Smtp {
  host: '127.0.0.1';
  port: number;
  /** True when started with `implicitTls`. */
  secure: boolean;
  stats: SmtpStats;
  /** Accepted messages, in order. */
  messages: ReceivedMessage[];
  /** Refused AUTH attempts with the reason (expired, wrong-audience, missing-role, ...). */
  authRefusals: AuthRefusal[];
  /** Resolves with the messages once at least `n` were accepted; rejects after `timeoutMs` (default 10000). */
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** The scripted faults (the methods below are shortcuts to it). */
  faults: SmtpFaults;
  /** Answers RCPT TO for `address` with `reply` (e.g. `550 5.1.10 RESOLVER.ADR.RecipientNotFound; ...`) until reset. */
  rejectRecipient(address: string, reply: string): void;
  /** Answers the next `times` message ends with `reply` (message not recorded). @default times 1 */
  failNextData(reply: string, times?: number): void;
  /** Answers the next `times` events of `stage` with `reply`. @default times 1 */
  failNext(stage: SmtpStage, reply: string, times?: number): void;
  /** Resets the TCP connection while the next `times` message bodies stream (nothing recorded). @default times 1 */
  dropNextData(times?: number): void;
  /** Withholds the answer to the next `times` events of `stage` for `ms`. @default times 1 */
  stallNext(stage: SmtpStage, ms: number, times?: number): void;
  /** Resolves once a scripted stall is holding back a reply (e.g. to act while a client waits). */
  waitForStall(timeoutMs?: number): Promise<void>;
  /** Clears messages, counters, refusals, faults and rate windows. */
  reset(): void;
  /** Closes every connection and the listener; pending stalls are dropped. */
  stop(): Promise<void>;
}

interface Session extends SMTPServerSession {
  user: AuthenticatedUser & string;
}

// smtp-server builds the connection inside connect(); overriding it is the one place to decorate
// the connection (reply wording, EHLO list) before it writes its greeting.
class Office365SmtpServer extends SMTPServer {
  onSocket: (connection: SMTPConnection, socket: Socket) => void = () => {};

  override connect(
    socket: Socket,
    socketOptions?: ConstructorParameters<typeof SMTPConnection>[2],
  ) {
    const connection = new SMTPConnection(this, socket, socketOptions ?? undefined);
    this.onSocket(connection, socket);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: unknown) => this.emit('connect', data));
    connection.init();
  }
}

function emptyStats(): SmtpStats {
  return {
    connections: 0,
    tlsHandshakes: 0,
    authAttempts: 0,
    authSuccesses: 0,
    authFailures: 0,
    insecureAuthAttempts: 0,
    messages: 0,
    rejectedMessages: 0,
    droppedMessages: 0,
    rateLimited: 0,
    commands: {},
  };
}

/** Starts an smtp.office365.com look-alike on 127.0.0.1 with the run's test certificate. */
export async function startOffice365Smtp(
  options: Office365SmtpOptions = {},
): Promise<Office365Smtp> {
  const now = options.now ?? Date.now;
  const pki = loadTestPki();
  const startTls = options.startTls ?? true;
  const implicitTls = options.implicitTls ?? false;
  const ratePerMinute = options.ratePerMinute ?? 30;
  const recipientsPerDay = options.recipientsPerDay ?? 10_000;
  const replyDelayMs = options.replyDelayMs ?? 0;
  const mailboxes = options.mailboxes
    ? new Map(Object.entries(options.mailboxes).map(([k, v]) => [k.toLowerCase(), v]))
    : undefined;
  const mailbox = (address: string) =>
    mailboxes ? mailboxes.get(address.toLowerCase()) : ({} satisfies MailboxOptions);
  const verifyToken = createTokenVerifier({
    jwks: options.tokenEndpoint?.jwks,
    audience: options.audience ?? 'https://outlook.office365.com',
    requiredRole: 'SMTP.SendAsApp',
    now,
  });

  const stats = emptyStats();
  const messages: ReceivedMessage[] = [];
  const authRefusals: AuthRefusal[] = [];
  const faults = new SmtpFaults();
  const messageRate = new RateWindow(60_000, now);
  const recipientRate = new RateWindow(24 * 60 * 60_000, now);
  const events = new EventEmitter();
  const sockets = new Map<string, Socket>();
  const frontEnds = new Map<string, FrontEnd>();
  const timers = new Set<NodeJS.Timeout>();
  /** The subset of `timers` holding a scripted stall. */
  const stalls = new Set<NodeJS.Timeout>();

  /** Calls back after the injected latency plus any scripted stall for `stage`. */
  function answer(stage: SmtpStage, reply: () => void): void {
    const delay = replyDelayMs + faults.takeStall(stage);
    if (delay <= 0) {
      reply();
      return;
    }
    const stalled = delay > replyDelayMs;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stalled) stalls.delete(timer);
      reply();
    }, delay);
    timers.add(timer);
    if (stalled) {
      stalls.add(timer);
      events.emit('stall');
    }
  }
  const feOf = (session: SMTPServerSession) => frontEnds.get(session.id) ?? newFrontEnd();

  const server = new Office365SmtpServer({
    secure: implicitTls,
    key: pki.keyPem,
    cert: pki.certPem,
    minVersion: 'TLSv1.2',
    size: O365_MAX_SIZE,
    authMethods: ['LOGIN', 'XOAUTH2'],
    // Authentication is enforced in onMailFrom so the refusal can be Office 365's 451/530 wording.
    authOptional: true,
    // Replies carry their own enhanced codes (see office365-connection.ts).
    hideENHANCEDSTATUSCODES: true,
    hideREQUIRETLS: true,
    hideSTARTTLS: !startTls,
    disabledCommands: startTls ? [] : ['STARTTLS'],
    allowInsecureAuth: false,
    disableReverseLookup: true,
    heloResponse: '%s Hello',
    logger: false,
    closeTimeout: 1_000,
    onConnect(session, callback) {
      const reply = faults.takeReply('connect');
      answer('connect', () => callback(reply ? replyError(reply) : undefined));
      void session;
    },
    onSecure(_socket, _session, callback) {
      stats.tlsHandshakes++;
      callback();
    },
    onAuth(auth, session, callback) {
      stats.authAttempts++;
      const scripted = faults.takeReply('auth');
      const decided = scripted
        ? Promise.resolve({
            kind: 'refused' as const,
            reply: scripted,
            refusal: {
              user: auth.username ?? '',
              method: auth.method,
              reason: 'scripted-fault' as const,
            },
          })
        : authenticate(auth, { mailbox, verifyToken, frontEnd: feOf(session) });
      void decided.then((outcome) =>
        answer('auth', () => {
          if (outcome.kind === 'ok') {
            stats.authSuccesses++;
            return callback(null, { user: outcome.user as never });
          }
          stats.authFailures++;
          authRefusals.push(outcome.refusal);
          callback(replyError(outcome.reply));
        }),
      );
    },
    onMailFrom(_address, rawSession, callback) {
      const session = rawSession as Session;
      const fe = feOf(session);
      const reply = (() => {
        if (!session.secure) return `${O365_REPLIES.startTlsRequired} ${trailer(fe)}`;
        if (!session.user) return O365_REPLIES.notAuthenticated;
        const scripted = faults.takeReply('mail');
        if (scripted) return scripted;
        if (messageRate.count(session.user.mailbox.toLowerCase()) >= ratePerMinute) {
          stats.rateLimited++;
          return O365_REPLIES.rateLimited;
        }
        return undefined;
      })();
      answer('mail', () => callback(reply ? replyError(reply) : undefined));
    },
    onRcptTo(address, _session, callback) {
      const reply = faults.recipientReply(address.address) ?? faults.takeReply('rcpt');
      answer('rcpt', () => callback(reply ? replyError(reply) : undefined));
    },
    onData(stream, rawSession, callback) {
      const session = rawSession as Session;
      if (faults.takeDrop()) return dropMidData(stream, session);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        void finishData(session, Buffer.concat(chunks)).then((decision) =>
          answer('data', () => {
            if (decision.kind === 'refuse') {
              stats.rejectedMessages++;
              return callback(replyError(decision.reply));
            }
            accept(decision.message);
            callback(null, decision.reply.slice(4));
          }),
        );
      });
    },
  } satisfies SMTPServerOptions);

  function dropMidData(stream: SMTPServerDataStream, session: Session): void {
    stream.on('error', () => {});
    stream.once('data', () => {
      stats.droppedMessages++;
      // A reset (not a FIN) so the client sees ECONNRESET, as when a front end dies mid-message.
      sockets.get(session.id)?.resetAndDestroy();
    });
  }

  type DataDecision =
    | { kind: 'refuse'; reply: string }
    | { kind: 'accept'; reply: string; message: ReceivedMessage };

  async function finishData(session: Session, raw: Buffer): Promise<DataDecision> {
    const fe = feOf(session);
    const headers = await readHeaders(raw);
    const scripted = faults.takeReply('data');
    if (scripted) return { kind: 'refuse', reply: scripted };
    const user = session.user;
    const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const from = headers.from ?? envelopeFrom;
    const box = mailbox(user.mailbox) ?? {};
    const allowed = [user.mailbox, ...(box.sendAs ?? [])].map((a) => a.toLowerCase());
    if (!allowed.includes(from.toLowerCase())) {
      return { kind: 'refuse', reply: sendAsDenied(user.mailbox, from, fe) };
    }
    const to = session.envelope.rcptTo.map((r) => r.address);
    const key = user.mailbox.toLowerCase();
    if (recipientRate.count(key) + to.length > recipientsPerDay) {
      return { kind: 'refuse', reply: O365_REPLIES.recipientQuotaExceeded };
    }
    const message: ReceivedMessage = {
      envelope: { from: envelopeFrom, to },
      authUser: user.mailbox,
      authMethod: user.method,
      connectionId: session.id,
      raw,
      ...headers,
      receivedAt: new Date(now()),
    };
    return { kind: 'accept', reply: queuedOk(headers.messageId, fe), message };
  }

  function accept(message: ReceivedMessage): void {
    const key = message.authUser.toLowerCase();
    messageRate.record(key);
    recipientRate.record(key, message.envelope.to.length);
    messages.push(message);
    stats.messages++;
    events.emit('message');
  }

  server.onSocket = (connection, socket) => {
    stats.connections++;
    const fe = newFrontEnd();
    sockets.set(connection.id, socket);
    frontEnds.set(connection.id, fe);
    socket.once('close', () => {
      sockets.delete(connection.id);
      frontEnds.delete(connection.id);
    });
    decorateConnection(connection, {
      frontEnd: fe,
      offerStartTls: startTls,
      onCommand(verb) {
        stats.commands[verb] = (stats.commands[verb] ?? 0) + 1;
      },
      onAuthCommand(secure) {
        if (!secure) stats.insecureAuthAttempts++;
      },
    });
  };
  // Client resets (e.g. after dropNextData) surface as server errors; they are expected here.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;

  return {
    host: '127.0.0.1',
    port,
    secure: implicitTls,
    stats,
    messages,
    authRefusals,
    faults,
    waitForMessages: (n, timeoutMs = 10_000) =>
      waitForEvent(
        events,
        'message',
        () => messages.length >= n,
        timeoutMs,
        () => `waitForMessages: ${messages.length} of ${n} messages after ${timeoutMs} ms`,
      ).then(() => messages.slice()),
    waitForStall: (timeoutMs = 10_000) =>
      waitForEvent(
        events,
        'stall',
        () => stalls.size > 0,
        timeoutMs,
        () => `waitForStall: none after ${timeoutMs} ms`,
      ),
    rejectRecipient: (address, reply) => faults.rejectRecipient(address, reply),
    failNextData: (reply, times) => faults.failNext('data', reply, times),
    failNext: (stage, reply, times) => faults.failNext(stage, reply, times),
    dropNextData: (times) => faults.dropNextData(times),
    stallNext: (stage, ms, times) => faults.stallNext(stage, ms, times),
    reset() {
      messages.length = 0;
      authRefusals.length = 0;
      Object.assign(stats, emptyStats());
      faults.clear();
      messageRate.clear();
      recipientRate.clear();
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      stalls.clear();
      for (const socket of sockets.values()) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when `ready()` holds, re-checked on each `event`; rejects after `timeoutMs`. */
function waitForEvent(
  events: EventEmitter,
  event: string,
  ready: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onEvent = () => {
      if (!ready()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(describe()));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      events.off(event, onEvent);
    };
    events.on(event, onEvent);
  });
}

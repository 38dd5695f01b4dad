import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { SMTPServerSession } from 'smtp-server';
import { DecoratedSmtpServer } from './decorated-smtp-server.ts';
import { type LatencyRelay, startLatencyRelay, type WireStats } from './latency-relay.ts';
import { MailboxSessions } from './mailbox-sessions.ts';
import type { AuthRefusal, MailboxOptions } from './office365-auth.ts';
import { decorateConnection } from './office365-connection.ts';
import { office365Handlers } from './office365-handlers.ts';
import { type FrontEnd, newFrontEnd, O365_MAX_SIZE, O365_REPLIES } from './office365-replies.ts';
import { RateWindow } from './rate-window.ts';
import type { ReceivedMessage } from './received-message.ts';
import { ReplyScheduler } from './reply-scheduler.ts';
import { SmtpFaults, type SmtpStage } from './smtp-faults.ts';
import { emptyStats, type SmtpStats } from './smtp-stats.ts';
import { loadTestPki } from './test-pki.ts';
import type { TokenEndpoint } from './token-endpoint.ts';
import { waitForEvent } from './wait-for-event.ts';
import { createTokenVerifier } from './xoauth2.ts';

export type { WireStats } from './latency-relay.ts';
export type { AuthenticatedUser, AuthRefusal, MailboxOptions } from './office365-auth.ts';
export { O365_REPLIES } from './office365-replies.ts';
export type { ReceivedMessage } from './received-message.ts';
export type { SmtpStage } from './smtp-faults.ts';
export type { SmtpStats } from './smtp-stats.ts';

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
  /** Offer PIPELINING; without it, a command sent before the previous reply ends the session. @default true */
  pipelining?: boolean;
  /** Offer CHUNKING and BINARYMIME and accept BDAT, as Exchange Online does. @default true */
  chunking?: boolean;
  /** TLS from the first byte (port-465 style). @default false */
  implicitTls?: boolean;
  /** Messages per mailbox per sliding minute before `421 4.4.2`. @default 30 */
  ratePerMinute?: number;
  /** Recipients per mailbox per sliding 24 h before `554 5.2.0 ...SubmissionQuotaExceededException`. @default 10000 */
  recipientsPerDay?: number;
  /** Recipients per message; more get `452 4.5.3 Too many recipients` at RCPT. @default 500 */
  recipientsPerMessage?: number;
  /**
   * Authenticated connections of one mailbox that may be open at once (Exchange Online allows
   * about 3): MAIL FROM on a later one gets `432 4.3.2 Concurrent connections limit exceeded`
   * until an older one closes. Idle connections count. Office 365's value is only reported by third
   * parties, so the default is no limit. @default Infinity
   */
  connectionsPerMailbox?: number;
  /**
   * Delay before the greeting and before each answer to AUTH, MAIL, RCPT and the end of DATA, inside
   * the server: a delayed reply holds the session, so pipelined commands are answered one delay
   * after another (a slow server, not a far one). EHLO, STARTTLS, NOOP, RSET and QUIT are answered
   * at once. For a far network use `networkLatencyMs`. @default 0
   */
  replyDelayMs?: number;
  /**
   * A far network: every byte the server sends (greeting, every reply, the TLS handshake's server
   * flights, its FIN) reaches the client this much later, in order, without holding the server
   * back, so one round trip costs one latency and a pipelined MAIL/RCPT/DATA costs one in all.
   * When set, `port` is a relay's (`latency-relay.ts`); counters stay the server's. @default 0
   */
  networkLatencyMs?: number;
  /** Accepted `aud` of XOAUTH2 tokens. @default 'https://outlook.office365.com' */
  audience?: string;
  /**
   * Behave as High Volume Email (smtp.hve.mx.microsoft): XOAUTH2 tokens need the Exchange
   * `Mail.Send` role instead of `SMTP.SendAsApp`, and RCPT TO a domain outside `internalDomains`
   * gets `550 5.5.105 External sending is not supported for High Volume Email accounts`.
   * @default - Exchange Online client submission
   */
  hve?: { internalDomains: string[] };
  /** Clock for rate windows and token expiry (ms since epoch). @default Date.now */
  now?: () => number;
  /** @default 0 (a free port) */
  port?: number;
}

/** A running Office 365-like SMTP server on 127.0.0.1. */
export interface Office365Smtp {
  host: '127.0.0.1';
  /** Where clients connect: the latency relay's port when `networkLatencyMs` is set. */
  port: number;
  /** True when started with `implicitTls`. */
  secure: boolean;
  stats: SmtpStats;
  /**
   * What the latency relay saw on the wire (all zero without `networkLatencyMs`): a server flight
   * is what the server sends between two things the client sends, so flights per message are the
   * round trips a message cost.
   */
  wire: WireStats;
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
  /**
   * Changes one mailbox from now on, as an admin would (`Set-CASMailbox
   * -SmtpClientAuthenticationDisabled`); sessions already authenticated are not touched, see
   * {@link dropConnections}.
   */
  setMailbox(address: string, options: MailboxOptions): void;
  /** Resets every open connection (a front end restarting); clients must connect and AUTH again. */
  dropConnections(): void;
  /** SMTP connections currently open. */
  readonly openConnections: number;
  /** Resolves once at most `n` connections are open (e.g. after a client closed its session). */
  waitForOpenConnections(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once a scripted stall is holding back a reply (e.g. to act while a client waits). */
  waitForStall(timeoutMs?: number): Promise<void>;
  /** Clears messages, counters, refusals, faults and rate windows. */
  reset(): void;
  /** Closes every connection and the listener; pending stalls are dropped. */
  stop(): Promise<void>;
}

/** Starts an smtp.office365.com look-alike on 127.0.0.1 with the run's test certificate. */
export async function startOffice365Smtp(
  options: Office365SmtpOptions = {},
): Promise<Office365Smtp> {
  const now = options.now ?? Date.now;
  const latencyMs = options.networkLatencyMs ?? 0;
  const startTls = options.startTls ?? true;
  const implicitTls = options.implicitTls ?? false;
  const mailboxes = options.mailboxes
    ? new Map(Object.entries(options.mailboxes).map(([k, v]) => [k.toLowerCase(), v]))
    : undefined;
  const changedMailboxes = new Map<string, MailboxOptions>();
  const stats = emptyStats();
  const messages: ReceivedMessage[] = [];
  const authRefusals: AuthRefusal[] = [];
  const faults = new SmtpFaults();
  const scheduler = new ReplyScheduler(options.replyDelayMs ?? 0);
  const messageRate = new RateWindow(60_000, now);
  const recipientRate = new RateWindow(24 * 60 * 60_000, now);
  const events = new EventEmitter();
  /** TCP sockets by client port (all clients are on 127.0.0.1), for resets and stop(). */
  const sockets = new Map<number, Socket>();
  const frontEnds = new Map<string, FrontEnd>();

  const handlers = office365Handlers({
    stats,
    authRefusals,
    faults,
    scheduler,
    messageRate,
    recipientRate,
    ratePerMinute: options.ratePerMinute ?? 30,
    recipientsPerDay: options.recipientsPerDay ?? 10_000,
    connectionsPerMailbox: options.connectionsPerMailbox ?? Number.POSITIVE_INFINITY,
    sessions: new MailboxSessions(),
    now,
    mailbox: (address) =>
      changedMailboxes.get(address.toLowerCase()) ??
      (mailboxes ? mailboxes.get(address.toLowerCase()) : {}),
    recipientPolicy: options.hve && hveRecipientPolicy(options.hve.internalDomains),
    verifyToken: createTokenVerifier({
      jwks: options.tokenEndpoint?.jwks,
      audience: options.audience ?? 'https://outlook.office365.com',
      requiredRole: options.hve ? 'Mail.Send' : 'SMTP.SendAsApp',
      now,
    }),
    frontEndOf: (session: SMTPServerSession) => frontEnds.get(session.id) ?? newFrontEnd(),
    // A reset (not a FIN) so the client sees ECONNRESET, as when a front end dies mid-message.
    resetConnection: (session) => sockets.get(session.remotePort)?.resetAndDestroy(),
    accept(message) {
      const key = message.authUser.toLowerCase();
      messageRate.record(key);
      recipientRate.record(key, message.envelope.to.length);
      messages.push(message);
      stats.messages++;
      events.emit('message');
    },
  });

  const pki = loadTestPki();
  const server = new DecoratedSmtpServer({
    secure: implicitTls,
    key: pki.keyPem,
    cert: pki.certPem,
    minVersion: 'TLSv1.2',
    size: O365_MAX_SIZE,
    rejectOversized: true,
    maxRecipients: options.recipientsPerMessage ?? 500,
    authMethods: ['LOGIN', 'XOAUTH2'],
    // Authentication is enforced in onMailFrom so the refusal can be Office 365's 451/530 wording.
    authOptional: true,
    // Replies carry their own enhanced codes (see office365-connection.ts).
    hideENHANCEDSTATUSCODES: true,
    hideREQUIRETLS: true,
    // hideSTARTTLS only hides the capability; disabling the command removes it.
    hideSTARTTLS: !startTls,
    disabledCommands: startTls ? [] : ['STARTTLS'],
    allowInsecureAuth: false,
    disableReverseLookup: true,
    heloResponse: '%s Hello',
    logger: false,
    closeTimeout: 1_000,
    ...handlers,
    onClose(session, callback) {
      openConnections--;
      events.emit('close');
      frontEnds.delete(session.id);
      handlers.onClose(session, callback);
    },
  });
  let openConnections = 0;
  server.decorate = (connection) => {
    openConnections++;
    const fe = newFrontEnd();
    frontEnds.set(connection.id, fe);
    decorateConnection(connection, {
      frontEnd: fe,
      offerStartTls: startTls,
      pipelining: options.pipelining ?? true,
      chunking: options.chunking ?? true,
      onProtocolError() {
        stats.protocolErrors++;
      },
      onLoneReset() {
        stats.resetChecks++;
      },
      onCommand(verb) {
        stats.commands[verb] = (stats.commands[verb] ?? 0) + 1;
      },
      onAuthCommand(secure) {
        if (!secure) stats.insecureAuthAttempts++;
      },
    });
  };
  server.server.on('connection', (socket: Socket) => {
    stats.connections++;
    const port = socket.remotePort ?? 0;
    sockets.set(port, socket);
    socket.once('close', () => sockets.delete(port));
  });
  // Client resets (e.g. after dropNextData) surface as server errors; they are expected here.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    // Behind a relay the server takes a free port; the relay gets the one asked for.
    server.listen(latencyMs > 0 ? 0 : (options.port ?? 0), '127.0.0.1', () => resolve());
  });
  const serverPort = (server.server.address() as { port: number }).port;
  const relay: LatencyRelay | undefined =
    latencyMs > 0
      ? await startLatencyRelay({ targetPort: serverPort, latencyMs, port: options.port })
      : undefined;

  return {
    host: '127.0.0.1',
    port: relay?.port ?? serverPort,
    secure: implicitTls,
    stats,
    wire: relay?.wire ?? { serverFlights: 0 },
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
    get openConnections() {
      return openConnections;
    },
    waitForOpenConnections: (n, timeoutMs = 10_000) =>
      waitForEvent(
        events,
        'close',
        () => openConnections <= n,
        timeoutMs,
        () =>
          `waitForOpenConnections: ${openConnections} open (want <= ${n}) after ${timeoutMs} ms`,
      ),
    waitForStall: (timeoutMs = 10_000) =>
      waitForEvent(
        scheduler,
        'stall',
        () => scheduler.stalled > 0,
        timeoutMs,
        () => `waitForStall: no stalled reply after ${timeoutMs} ms`,
      ),
    rejectRecipient: (address, reply) => faults.rejectRecipient(address, reply),
    failNextData: (reply, times) => faults.failNext('data', reply, times),
    failNext: (stage, reply, times) => faults.failNext(stage, reply, times),
    dropNextData: (times) => faults.dropNextData(times),
    stallNext: (stage, ms, times) => faults.stallNext(stage, ms, times),
    setMailbox: (address, mailbox) => changedMailboxes.set(address.toLowerCase(), mailbox),
    dropConnections() {
      for (const socket of sockets.values()) socket.resetAndDestroy();
    },
    reset() {
      messages.length = 0;
      authRefusals.length = 0;
      Object.assign(stats, emptyStats());
      if (relay) relay.wire.serverFlights = 0;
      faults.clear();
      messageRate.clear();
      recipientRate.clear();
    },
    async stop() {
      await relay?.stop();
      scheduler.cancelAll();
      for (const socket of sockets.values()) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** HVE delivers inside the tenant only: any other domain is refused at RCPT. */
function hveRecipientPolicy(internalDomains: string[]): (address: string) => string | undefined {
  const internal = new Set(internalDomains.map((d) => d.toLowerCase()));
  return (address) =>
    internal.has(address.slice(address.lastIndexOf('@') + 1).toLowerCase())
      ? undefined
      : O365_REPLIES.hveExternalRecipient;
}

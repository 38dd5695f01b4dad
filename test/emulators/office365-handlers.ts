import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { MailboxSessions } from './mailbox-sessions.ts';
import {
  type AuthenticatedUser,
  type AuthOutcome,
  type AuthRefusal,
  authenticate,
  type MailboxOptions,
} from './office365-auth.ts';
import { decideMessage } from './office365-data.ts';
import { type FrontEnd, O365_REPLIES, replyError, trailer } from './office365-replies.ts';
import type { ChunkedDataStream } from './office365-transactions.ts';
import type { RateWindow } from './rate-window.ts';
import type { ReceivedMessage } from './received-message.ts';
import type { ReplyScheduler } from './reply-scheduler.ts';
import type { SmtpFaults, SmtpStage } from './smtp-faults.ts';
import type { SmtpStats } from './smtp-stats.ts';
import type { TokenCheck } from './xoauth2.ts';

/** What the smtp-server callbacks share with the emulator. */
export interface HandlerContext {
  stats: SmtpStats;
  authRefusals: AuthRefusal[];
  faults: SmtpFaults;
  scheduler: ReplyScheduler;
  /** Accepted messages per mailbox per minute. */
  messageRate: RateWindow;
  /** Recipients per mailbox per 24 h. */
  recipientRate: RateWindow;
  ratePerMinute: number;
  recipientsPerDay: number;
  /** Authenticated connections per mailbox that may be open at once. */
  connectionsPerMailbox: number;
  sessions: MailboxSessions;
  now: () => number;
  mailbox(address: string): MailboxOptions | undefined;
  /** A refusal of RCPT TO `address` by policy (HVE: external domains), or undefined. */
  recipientPolicy?: ((address: string) => string | undefined) | undefined;
  verifyToken(token: string): Promise<TokenCheck>;
  frontEndOf(session: SMTPServerSession): FrontEnd;
  /** Resets the TCP connection of `session`. */
  resetConnection(session: SMTPServerSession): void;
  accept(message: ReceivedMessage): void;
}

type Handlers = Required<
  Pick<
    SMTPServerOptions,
    'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'
  >
>;

// smtp-server types `session.user` as any; this emulator always stores an AuthenticatedUser.
const userOf = (session: SMTPServerSession): AuthenticatedUser | undefined => session.user;

/** The smtp-server callbacks that make it behave like Exchange Online's client submission. */
export function office365Handlers(ctx: HandlerContext): Handlers {
  const { stats, faults } = ctx;
  /** Answers after the latency and any stall scripted for `stage`. */
  const later = (stage: SmtpStage, reply: () => void) =>
    ctx.scheduler.run(faults.takeStall(stage), reply);
  const asError = (reply: string | undefined) => (reply ? replyError(reply) : undefined);

  return {
    onConnect(_session, callback) {
      const reply = faults.takeReply('connect');
      later('connect', () => callback(asError(reply)));
    },
    onSecure(_socket, _session, callback) {
      stats.tlsHandshakes++;
      callback();
    },
    onAuth(auth, session, callback) {
      stats.authAttempts++;
      const scripted = faults.takeReply('auth');
      const decided: Promise<AuthOutcome> = scripted
        ? Promise.resolve({
            kind: 'refused',
            reply: scripted,
            refusal: { user: auth.username ?? '', method: auth.method, reason: 'scripted-fault' },
          })
        : authenticate(auth, { ...ctx, frontEnd: ctx.frontEndOf(session) });
      void decided.then((outcome) =>
        later('auth', () => {
          if (outcome.kind === 'ok') {
            stats.authSuccesses++;
            ctx.sessions.add(outcome.user.mailbox, session.id);
            return callback(null, { user: outcome.user });
          }
          stats.authFailures++;
          ctx.authRefusals.push(outcome.refusal);
          callback(replyError(outcome.reply));
        }),
      );
    },
    onMailFrom(_address, session, callback) {
      const reply = mailFromReply(ctx, session);
      later('mail', () => callback(asError(reply)));
    },
    onRcptTo(address, _session, callback) {
      const reply =
        faults.recipientReply(address.address) ??
        ctx.recipientPolicy?.(address.address) ??
        faults.takeReply('rcpt');
      later('rcpt', () => callback(asError(reply)));
    },
    onClose(session) {
      ctx.sessions.remove(session.id);
    },
    onData(stream, session, callback) {
      stream.on('error', () => {});
      if (faults.takeDrop()) {
        stream.once('data', () => {
          stats.droppedMessages++;
          ctx.resetConnection(session);
        });
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const user = userOf(session)!;
        const decided = decideMessage(session, Buffer.concat(chunks), {
          user,
          mailbox: ctx.mailbox(user.mailbox) ?? {},
          frontEnd: ctx.frontEndOf(session),
          recipientRate: ctx.recipientRate,
          recipientsPerDay: ctx.recipientsPerDay,
          scriptedReply: faults.takeReply('data'),
          transfer: (stream as ChunkedDataStream).chunked ? 'BDAT' : 'DATA',
          now: ctx.now(),
        });
        void decided.then((decision) =>
          later('data', () => {
            if (decision.kind === 'refuse') {
              stats.rejectedMessages++;
              return callback(replyError(decision.reply));
            }
            ctx.accept(decision.message);
            // smtp-server prefixes the code; the text already has Office 365's enhanced code.
            callback(null, decision.reply.slice(4));
          }),
        );
      });
    },
  };
}

/** Exchange's order at MAIL FROM: TLS, then authentication, then concurrency and rate throttling. */
function mailFromReply(ctx: HandlerContext, session: SMTPServerSession): string | undefined {
  if (!session.secure) {
    return `${O365_REPLIES.startTlsRequired} ${trailer(ctx.frontEndOf(session))}`;
  }
  const user = userOf(session);
  if (!user) return O365_REPLIES.notAuthenticated;
  const scripted = ctx.faults.takeReply('mail');
  if (scripted) return scripted;
  if (ctx.sessions.rank(session.id) >= ctx.connectionsPerMailbox) {
    ctx.stats.concurrencyLimited++;
    return O365_REPLIES.concurrentConnections;
  }
  if (ctx.messageRate.count(user.mailbox.toLowerCase()) >= ctx.ratePerMinute) {
    ctx.stats.rateLimited++;
    return O365_REPLIES.rateLimited;
  }
  return undefined;
}

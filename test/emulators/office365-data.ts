import type { SMTPServerSession } from 'smtp-server';
import type { AuthenticatedUser, MailboxOptions } from './office365-auth.ts';
import { type FrontEnd, O365_REPLIES, queuedOk, sendAsDenied } from './office365-replies.ts';
import type { RateWindow } from './rate-window.ts';
import { type ReceivedMessage, readHeaders } from './received-message.ts';

export type DataDecision =
  | { kind: 'refuse'; reply: string }
  | { kind: 'accept'; reply: string; message: ReceivedMessage };

export interface DataContext {
  user: AuthenticatedUser;
  mailbox: MailboxOptions;
  frontEnd: FrontEnd;
  /** Recipients sent per mailbox in the last 24 h. */
  recipientRate: RateWindow;
  recipientsPerDay: number;
  /** A scripted reply for this message end, if any. */
  scriptedReply: string | undefined;
  /** How the body came (BDAT chunks or DATA). */
  transfer: 'DATA' | 'BDAT';
  now: number;
}

/**
 * Decides a complete message as Exchange does after the end of DATA: the send-as check of the
 * header From (Exchange does not check at MAIL FROM), then the rolling recipient quota.
 */
export async function decideMessage(
  session: SMTPServerSession,
  raw: Buffer,
  ctx: DataContext,
): Promise<DataDecision> {
  const headers = await readHeaders(raw);
  if (ctx.scriptedReply) return { kind: 'refuse', reply: ctx.scriptedReply };
  const mailbox = ctx.user.mailbox;
  const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const from = headers.from ?? envelopeFrom;
  const allowed = [mailbox, ...(ctx.mailbox.sendAs ?? [])].map((a) => a.toLowerCase());
  if (!allowed.includes(from.toLowerCase())) {
    return { kind: 'refuse', reply: sendAsDenied(mailbox, from, ctx.frontEnd) };
  }
  const to = session.envelope.rcptTo.map((r) => r.address);
  if (ctx.recipientRate.count(mailbox.toLowerCase()) + to.length > ctx.recipientsPerDay) {
    return { kind: 'refuse', reply: O365_REPLIES.recipientQuotaExceeded };
  }
  const message: ReceivedMessage = {
    envelope: { from: envelopeFrom, to },
    authUser: mailbox,
    authMethod: ctx.user.method,
    connectionId: session.id,
    raw,
    transfer: ctx.transfer,
    bodyType: session.envelope.bodyType ?? '7bit',
    ...headers,
    receivedAt: new Date(ctx.now),
  };
  return { kind: 'accept', reply: queuedOk(headers.messageId, ctx.frontEnd), message };
}

/**
 * Limits a door sets on one message that the server would only enforce after the whole message
 * was sent (or not say clearly): checked before sending, so a message over them is dead-lettered
 * as rejected with the reason and the fix, and costs the mailbox nothing.
 */
import type { ComposedMime, MailSession, SendOutcome } from '../types.ts';

export interface MessageLimits {
  /** The door, for the reason: `High Volume Email`. */
  door: string;
  /** Recipients (to, cc and bcc together) per message. */
  maxRecipients: number;
  /** Size of the MIME as sent. */
  maxMessageBytes: number;
  /** What to do instead, for the reason. */
  alternative: string;
}

/** High Volume Email at GA: 50 recipients and 10 MB per message (exchange-2026.md, Door 3). */
export const HVE_LIMITS: MessageLimits = {
  door: 'High Volume Email',
  maxRecipients: 50,
  maxMessageBytes: 10 * 1024 * 1024,
  alternative:
    'or send it through SMTP AUTH on smtp.office365.com (500 recipients, 35 MB by default)',
};

/** The rejected outcome for a message over `limits`, or `undefined` when it fits. */
export function checkMessageLimits(
  mime: ComposedMime,
  limits: MessageLimits,
): SendOutcome | undefined {
  const recipients = mime.envelope.to.length;
  if (recipients > limits.maxRecipients) {
    return {
      kind: 'rejected',
      reason: `Too many recipients for ${limits.door}: ${recipients} (to, cc and bcc together), at most ${limits.maxRecipients} per message; not sent. Fix: split the recipients over several messages, ${limits.alternative}.`,
    };
  }
  const bytes = mime.raw.length;
  if (bytes > limits.maxMessageBytes) {
    const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;
    return {
      kind: 'rejected',
      reason: `Message too large for ${limits.door}: ${mb(bytes)} as MIME (attachments grow by a third), at most ${mb(limits.maxMessageBytes)}; not sent. Fix: send smaller attachments or links to them, ${limits.alternative}.`,
    };
  }
  return undefined;
}

/** `session` with every message checked against `limits` first. */
export function withMessageLimits(session: MailSession, limits: MessageLimits): MailSession {
  return {
    send: async (mime) => checkMessageLimits(mime, limits) ?? session.send(mime),
    close: () => session.close(),
  };
}

/**
 * The one place that decides what a failed send means: a pure function from a nodemailer error,
 * a token error, an {@link SmtpReply} or a bare reply string to `retry`, `rejected` or `config`,
 * driven by the explicit table in `office365-replies.ts`.
 */
import {
  findTokenAcquisitionError,
  type TokenAcquisitionError,
} from '../../auth/token-acquisition-error.ts';
import type { RecipientRefusal, SendOutcome, SmtpReply } from '../../types.ts';
import { bestReplyRow } from '../best-reply-row.ts';
import {
  OFFICE365_REPLIES,
  type ReplyTableRow,
  type TableFailureClass,
} from './office365-replies.ts';

/** What a failure means, why, and what fixes it. */
export interface Classification {
  failureClass: TableFailureClass;
  /** Human text for logs and the DLQ's `FailureReason`, with the server's reply when there was one. */
  reason: string;
  fix: string;
  reply?: SmtpReply;
  /** The table row that matched; absent when a fallback rule decided. */
  entry?: ReplyTableRow;
  minDelaySeconds?: number;
}

/** The fields nodemailer puts on its errors (see `_formatError` in smtp-connection). */
interface ErrorLike {
  message?: unknown;
  code?: unknown;
  originalCode?: unknown;
  response?: unknown;
  responseCode?: unknown;
  command?: unknown;
  rejected?: unknown;
  cause?: unknown;
}

const MAX_REPLY_CHARS = 512;
const REPLY_PATTERN = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3})(?=[\s;,.]|$))?/;
const SESSION_COMMANDS = /^(AUTH|CONN|EHLO|HELO|LHLO|STARTTLS|GREETING)/i;
const GENERIC_FIX_CONFIG =
  'Check the SMTP_* and O365_* settings and the mailbox permissions (see docs/replies.md).';

/** Parses `550 5.1.10 RESOLVER…` into its codes; `undefined` when the text is not a reply. */
export function parseSmtpReply(text: string, command?: string): SmtpReply | undefined {
  const trimmed = text.trim();
  const m = REPLY_PATTERN.exec(trimmed);
  if (!m) return undefined;
  // A server writes the reply, and it goes into logs and FailureReason: a readable length is enough.
  const shown =
    trimmed.length > MAX_REPLY_CHARS ? `${trimmed.slice(0, MAX_REPLY_CHARS)}…` : trimmed;
  const reply: SmtpReply = { code: Number(m[1]), text: shown };
  if (m[2]) reply.enhanced = m[2];
  if (command) reply.command = command;
  return reply;
}

/** Classifies a failed SMTP step, token request, or server reply. Never throws. */
export function classifySmtpFailure(
  failure: unknown,
  table: readonly ReplyTableRow[] = OFFICE365_REPLIES,
): Classification {
  const tokenError = findTokenAcquisitionError(failure);
  if (tokenError) return classifyTokenFailure(tokenError, table);
  if (typeof failure === 'string') {
    const reply = parseSmtpReply(failure);
    return reply ? classifyReply(reply, table) : classifyError({ message: failure }, table);
  }
  if (isSmtpReply(failure)) return classifyReply(failure, table);
  if (failure && typeof failure === 'object') return classifyError(failure as ErrorLike, table);
  return classifyError({ message: String(failure) }, table);
}

/** The send outcome for a classified failure. */
export function classificationToOutcome(c: Classification): SendOutcome {
  switch (c.failureClass) {
    case 'rejected':
      return { kind: 'rejected', reason: c.reason, ...(c.reply && { reply: c.reply }) };
    case 'retry':
      return {
        kind: 'retry',
        reason: c.reason,
        ...(c.reply && { reply: c.reply }),
        ...(c.minDelaySeconds !== undefined && { minDelaySeconds: c.minDelaySeconds }),
      };
    case 'config':
      return { kind: 'config', reason: c.reason, fix: c.fix, ...(c.reply && { reply: c.reply }) };
  }
}

/**
 * The verdict for one recipient the server refused (nodemailer's `rejectedErrors` entry, or its
 * reply). A reply that blames the sender rather than the recipient cannot fail a message that others
 * already got, so it counts as temporary for this recipient.
 */
export function classifyRecipientRefusal(recipient: string, failure: unknown): RecipientRefusal {
  const c = classifySmtpFailure(failure);
  const refusal: RecipientRefusal = {
    recipient,
    kind: c.failureClass === 'rejected' ? 'rejected' : 'retry',
    reason: c.reason,
  };
  if (c.reply) refusal.reply = c.reply;
  if (c.minDelaySeconds !== undefined) refusal.minDelaySeconds = c.minDelaySeconds;
  return refusal;
}

function isSmtpReply(value: unknown): value is SmtpReply {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.text === 'string' &&
    !('message' in v) &&
    (typeof v.code === 'number' || typeof v.enhanced === 'string')
  );
}

function classifyReply(
  reply: SmtpReply,
  table: readonly ReplyTableRow[],
  suffix = '',
): Classification {
  const entry = findReplyRow(reply, table);
  const where = reply.command ? ` (${reply.command})` : '';
  if (entry) return fromEntry(entry, `${entry.title}${where}: ${reply.text}${suffix}`, reply);
  const digit = reply.enhanced?.[0] ?? String(reply.code ?? '')[0];
  if (digit === '5') {
    const atSession = reply.command !== undefined && SESSION_COMMANDS.test(reply.command);
    return atSession
      ? {
          failureClass: 'config',
          reason: `Permanent failure${where}: ${reply.text}`,
          fix: GENERIC_FIX_CONFIG,
          reply,
        }
      : {
          failureClass: 'rejected',
          reason: `Permanent failure${where}: ${reply.text}${suffix}`,
          fix: 'Correct the message; it will not be retried.',
          reply,
        };
  }
  return {
    failureClass: 'retry',
    reason: `Temporary failure${where}: ${reply.text}`,
    fix: 'None; retried with backoff.',
    reply,
  };
}

function classifyError(err: ErrorLike, table: readonly ReplyTableRow[]): Classification {
  const message =
    typeof err.message === 'string' ? err.message : String(err.message ?? 'unknown error');
  const command = typeof err.command === 'string' ? err.command : undefined;
  const response = typeof err.response === 'string' ? err.response : undefined;
  const reply = response ? parseSmtpReply(response, command) : undefined;
  const suffix = rejectedRecipientsSuffix(err.rejected);
  if (reply && findReplyRow(reply, table)) return classifyReply(reply, table, suffix);
  const codes = errorCodes(err);
  const entry = table.find((row) => errorRowMatches(row, codes, message));
  if (entry) return fromEntry(entry, `${entry.title}: ${message}`, reply);
  if (reply) return classifyReply(reply, table, suffix);
  return errorFallback(codes, message);
}

function classifyTokenFailure(
  err: TokenAcquisitionError,
  table: readonly ReplyTableRow[],
): Classification {
  // A transient answer is "unavailable" whatever else it says: nothing about the app is wrong.
  const codes = err.transient
    ? ['token_endpoint_unavailable']
    : [err.aadsts, err.errorCode].filter(Boolean);
  const entry = table.find((row) => errorRowMatches(row, codes, err.description));
  const text = `${err.errorCode}: ${err.description}`;
  if (entry) return fromEntry(entry, `${entry.title} (token endpoint): ${text}`);
  return err.transient
    ? {
        failureClass: 'retry',
        reason: `Token endpoint unavailable: ${text}`,
        fix: 'None; retried with backoff.',
        minDelaySeconds: 60,
      }
    : {
        failureClass: 'config',
        reason: `Token request refused: ${text}`,
        fix: 'Check O365_TENANT_ID, O365_CLIENT_ID and the secret or certificate.',
      };
}

function errorFallback(codes: string[], message: string): Classification {
  const has = (code: string) => codes.includes(code);
  if (has('EAUTH') || has('EOAUTH2')) {
    return {
      failureClass: 'config',
      reason: `Authentication failed: ${message}`,
      fix: GENERIC_FIX_CONFIG,
    };
  }
  if (has('EENVELOPE') || has('EMESSAGE') || has('EMAXRECIPIENTS')) {
    return {
      failureClass: 'rejected',
      reason: `Message cannot be sent: ${message}`,
      fix: 'Correct the message; it will not be retried.',
    };
  }
  // ETIMEDOUT, ESOCKET, ECONNECTION, EDNS, ETLS, EPROTOCOL and anything unknown: a later attempt may work.
  const code = codes[0] ? `${codes[0]}: ` : '';
  return {
    failureClass: 'retry',
    reason: `Temporary failure: ${code}${message}`,
    fix: 'None; retried with backoff.',
  };
}

function fromEntry(entry: ReplyTableRow, reason: string, reply?: SmtpReply): Classification {
  const c: Classification = { failureClass: entry.failureClass, reason, fix: entry.fix, entry };
  if (reply) c.reply = reply;
  if (entry.minDelaySeconds !== undefined) c.minDelaySeconds = entry.minDelaySeconds;
  return c;
}

/** Best row for a reply: an enhanced-code match beats a basic-code match; text and code refine it. */
function findReplyRow(
  reply: SmtpReply,
  table: readonly ReplyTableRow[],
): ReplyTableRow | undefined {
  return bestReplyRow(reply, table, replyScore);
}

function replyScore(row: ReplyTableRow, reply: SmtpReply): number {
  const { enhanced, code, text, error } = row.match;
  if (error || (!enhanced && !code)) return -1;
  let score = 0;
  if (enhanced) {
    if (!reply.enhanced || !enhanced.some((p) => enhancedMatches(p, reply.enhanced!))) return -1;
    score += 100;
  }
  if (code) {
    if (reply.code === undefined || !code.includes(reply.code)) return -1;
    score += 1;
  }
  if (text) {
    if (!text.test(reply.text)) return -1;
    score += 10;
  }
  return score;
}

function enhancedMatches(pattern: string, enhanced: string): boolean {
  const p = pattern.split('.');
  const e = enhanced.split('.');
  if (p.length !== e.length) return false;
  return p.every((part, i) => {
    const actual = e[i]!;
    return (
      part.length === actual.length && [...part].every((ch, j) => ch === 'x' || ch === actual[j])
    );
  });
}

function errorRowMatches(row: ReplyTableRow, codes: string[], message: string): boolean {
  const { error, text } = row.match;
  if (!error?.some((c) => codes.includes(c))) return false;
  return !text || text.test(message);
}

function errorCodes(err: ErrorLike): string[] {
  const cause = err.cause && typeof err.cause === 'object' ? (err.cause as ErrorLike) : undefined;
  return [err.code, err.originalCode, cause?.code].filter(
    (c): c is string => typeof c === 'string',
  );
}

function rejectedRecipientsSuffix(rejected: unknown): string {
  if (!Array.isArray(rejected) || rejected.length === 0) return '';
  const shown = rejected.slice(0, MAX_RECIPIENTS_IN_REASON).map(String).join(', ');
  const more = rejected.length - MAX_RECIPIENTS_IN_REASON;
  return ` (recipients: ${shown}${more > 0 ? ` and ${more} more` : ''})`;
}

/** A reason names a few recipients, not 500. */
const MAX_RECIPIENTS_IN_REASON = 5;

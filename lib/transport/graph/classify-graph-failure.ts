/**
 * The one place that decides what a failed Graph request means: a pure function from a
 * {@link GraphReply}, a failure without an answer, a token error, or a reply written as text
 * (`429 ApplicationThrottled: …`, as the table's examples are) to the five outcomes, driven by the
 * table in `graph-replies.ts`. Token failures share the SMTP table's rows, except where Graph
 * needs another fix.
 */
import { findTokenAcquisitionError } from '../../auth/token-acquisition-error.ts';
import type { SendOutcome, SmtpReply } from '../../types.ts';
import { bestReplyRow } from '../best-reply-row.ts';
import { classifySmtpFailure } from '../smtp/classify-smtp-failure.ts';
import {
  GRAPH_REPLIES,
  type GraphFailureClass,
  type GraphReply,
  type GraphReplyRow,
  type GraphRequestName,
} from './graph-replies.ts';

/** What a Graph failure means, why, and what fixes it. */
export interface GraphClassification {
  failureClass: GraphFailureClass;
  /** For logs and the DLQ's `FailureReason`, with Graph's answer when there was one. */
  reason: string;
  fix: string;
  /** Graph's answer in the shape outcomes carry: `code` is the HTTP status, `command` the request. */
  reply?: SmtpReply;
  /** The table row that matched; absent when a fallback rule decided. */
  entry?: GraphReplyRow;
  minDelaySeconds?: number;
}

const REPLY_TEXT = /^(\d{3})(?: ([A-Za-z][\w.]*))?:\s*(.*)$/s;

/** Parses `403 ErrorAccessDenied: Access is denied.`; `undefined` when the text is not one. */
export function parseGraphReply(
  text: string,
  request: GraphRequestName = 'sendMail',
): GraphReply | undefined {
  const m = REPLY_TEXT.exec(text.trim());
  if (!m) return undefined;
  return { status: Number(m[1]), ...(m[2] ? { code: m[2] } : {}), message: m[3]!, request };
}

/** How a reply is written in reasons, logs and the table: `429 ApplicationThrottled: …`. */
export function graphReplyText(reply: GraphReply): string {
  const id = reply.requestId ? ` [request-id ${reply.requestId}]` : '';
  return `${reply.status}${reply.code ? ` ${reply.code}` : ''}: ${reply.message}${id}`;
}

/** Classifies a failed Graph request. Never throws. */
export function classifyGraphFailure(
  failure: unknown,
  table: readonly GraphReplyRow[] = GRAPH_REPLIES,
): GraphClassification {
  if (findTokenAcquisitionError(failure)) return classifyTokenFailure(failure, table);
  if (typeof failure === 'string') {
    const reply = parseGraphReply(failure);
    return reply ? classifyReply(reply, table) : classifyError([], failure, undefined, table);
  }
  if (isGraphReply(failure)) return classifyReply(failure, table);
  const err = (failure ?? {}) as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
    request?: unknown;
  };
  const codes = [err.code, err.name].filter((c): c is string => typeof c === 'string');
  const message = typeof err.message === 'string' ? err.message : String(failure);
  const request = typeof err.request === 'string' ? (err.request as GraphRequestName) : undefined;
  return classifyError(codes, message, request, table);
}

/** The send outcome for a classified Graph failure. */
export function graphClassificationToOutcome(c: GraphClassification): SendOutcome {
  const reply = c.reply && { reply: c.reply };
  switch (c.failureClass) {
    case 'invalid':
      return { kind: 'invalid', reason: c.reason };
    case 'rejected':
      return { kind: 'rejected', reason: c.reason, ...reply };
    case 'retry':
      return {
        kind: 'retry',
        reason: c.reason,
        ...reply,
        ...(c.minDelaySeconds !== undefined && { minDelaySeconds: c.minDelaySeconds }),
      };
    case 'config':
      return { kind: 'config', reason: c.reason, fix: c.fix, ...reply };
  }
}

function isGraphReply(value: unknown): value is GraphReply {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.status === 'number' && typeof v.message === 'string' && typeof v.request === 'string'
  );
}

function classifyReply(reply: GraphReply, table: readonly GraphReplyRow[]): GraphClassification {
  const text = graphReplyText(reply);
  const smtpReply: SmtpReply = { code: reply.status, text, command: reply.request };
  const entry = findReplyRow(reply, table);
  const retryAfter = reply.retryAfterSeconds;
  if (entry) {
    const c = fromEntry(entry, `${entry.title} (${reply.request}): ${text}`, smtpReply);
    // Graph's own wait wins; the row's floor stands in when it gave none.
    if (c.failureClass === 'retry' && retryAfter !== undefined)
      c.minDelaySeconds = Math.max(1, Math.ceil(retryAfter));
    return c;
  }
  const where = `(${reply.request}): ${text}`;
  if ([401, 403, 404].includes(reply.status)) {
    return {
      failureClass: 'config',
      reason: `Graph refused the sender ${where}`,
      fix: 'Check O365_GRAPH_ENDPOINT, MAIL_SENDER and the app\'s Mail.Send permission (see "Choosing a door" in docs/doors.md).',
      reply: smtpReply,
    };
  }
  if (reply.status >= 400 && reply.status < 500 && reply.status !== 408 && reply.status !== 429) {
    return {
      failureClass: 'rejected',
      reason: `Graph refused the message ${where}`,
      fix: 'Correct the message; it will not be retried.',
      reply: smtpReply,
    };
  }
  return {
    failureClass: 'retry',
    reason: `Temporary failure ${where}`,
    fix: 'None; retried with backoff.',
    reply: smtpReply,
    ...(retryAfter !== undefined && { minDelaySeconds: Math.max(1, Math.ceil(retryAfter)) }),
  };
}

function classifyError(
  codes: string[],
  message: string,
  request: GraphRequestName | undefined,
  table: readonly GraphReplyRow[],
): GraphClassification {
  const entry = table.find((row) => errorRowMatches(row, codes, message));
  const where = request ? ` (${request})` : '';
  if (entry) return fromEntry(entry, `${entry.title}${where}: ${message}`);
  return {
    failureClass: 'retry',
    reason: `Temporary failure${where}: ${codes[0] ? `${codes[0]}: ` : ''}${message}`,
    fix: 'None; retried with backoff.',
  };
}

/** Graph's own token rows first (their fixes name O365_GRAPH_ENDPOINT), then the shared ones. */
function classifyTokenFailure(
  failure: unknown,
  table: readonly GraphReplyRow[],
): GraphClassification {
  const token = findTokenAcquisitionError(failure)!;
  const codes = token.transient ? [] : [token.aadsts, token.errorCode].filter(Boolean);
  const entry = table.find((row) => errorRowMatches(row, codes, token.description));
  if (entry) {
    return fromEntry(
      entry,
      `${entry.title} (token endpoint): ${token.errorCode}: ${token.description}`,
    );
  }
  const shared = classifySmtpFailure(failure);
  return {
    failureClass: shared.failureClass,
    reason: shared.reason,
    fix: shared.fix,
    ...(shared.minDelaySeconds !== undefined && { minDelaySeconds: shared.minDelaySeconds }),
  };
}

function fromEntry(entry: GraphReplyRow, reason: string, reply?: SmtpReply): GraphClassification {
  const c: GraphClassification = {
    failureClass: entry.failureClass,
    reason,
    fix: entry.fix,
    entry,
  };
  if (reply) c.reply = reply;
  if (entry.minDelaySeconds !== undefined) c.minDelaySeconds = entry.minDelaySeconds;
  return c;
}

/** Best row for an answer: a Graph error code beats the request, which beats the status alone. */
function findReplyRow(
  reply: GraphReply,
  table: readonly GraphReplyRow[],
): GraphReplyRow | undefined {
  return bestReplyRow(reply, table, replyScore);
}

function replyScore(row: GraphReplyRow, reply: GraphReply): number {
  const { status, code, text, request } = row.match;
  if (!status && !code) return -1;
  let score = 0;
  if (code) {
    const actual = reply.code?.toLowerCase();
    if (!actual || !code.some((c) => c.toLowerCase() === actual)) return -1;
    score += 100;
  }
  if (request) {
    if (!request.includes(reply.request)) return -1;
    score += 20;
  }
  if (text) {
    if (!text.test(reply.message) && !text.test(reply.code ?? '')) return -1;
    score += 10;
  }
  if (status) {
    if (!status.includes(reply.status)) return -1;
    score += 1;
  }
  return score;
}

function errorRowMatches(row: GraphReplyRow, codes: string[], message: string): boolean {
  const { error, text } = row.match;
  if (!error?.some((c) => codes.includes(c))) return false;
  return !text || text.test(message);
}

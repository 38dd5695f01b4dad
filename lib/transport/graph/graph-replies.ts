/**
 * The explicit table of Microsoft Graph `sendMail` failures, in the shape of the SMTP table
 * (`../smtp/office365-replies.ts`): every answer Graph is known to give, and the failures that come
 * without one (network, TLS, timeouts). The classifier, the DLQ reasons, `doctor` and the
 * generated table in docs/replies.md all read it, so an explanation or fix is written once.
 * Sources: shared/reference/exchange-2026.md (Door 2) and Graph's throttling and sendMail pages.
 */
import type { ReplyTableRow, TableFailureClass } from '../smtp/office365-replies.ts';
import { GRAPH_ACCESS_ROWS } from './graph-reply-rows-access.ts';
import { GRAPH_MESSAGE_ROWS } from './graph-reply-rows-message.ts';

/** Graph can also say the message itself is malformed (bad MIME): dead-lettered as invalid. */
export type GraphFailureClass = TableFailureClass | 'invalid';

/** The Graph requests the sender makes; failures say which one answered. */
export type GraphRequestName =
  | 'sendMail'
  | 'createDraft'
  | 'updateDraft'
  | 'addAttachment'
  | 'createUploadSession'
  | 'uploadChunk'
  | 'sendDraft'
  | 'deleteDraft';

/** An HTTP answer from Graph that was not a success. */
export interface GraphReply {
  /** HTTP status, e.g. 429. */
  status: number;
  /** Graph's `error.code`, e.g. `ErrorInvalidRecipients`, `ApplicationThrottled`. */
  code?: string;
  /** Graph's `error.message` (or the status text when the body had none). */
  message: string;
  request: GraphRequestName;
  /** `Retry-After`, in seconds, when the answer had one. */
  retryAfterSeconds?: number;
  /** Graph's `request-id`, for a support case. */
  requestId?: string;
}

/**
 * How a row recognises a failure. An answer is matched by `status`, `code`, `request` and `text`
 * (each one given must hold); a failure without an answer by `error` and `text`.
 */
export interface GraphReplyMatch {
  status?: readonly number[];
  /** Graph error codes (`error.code`), compared case-insensitively. */
  code?: readonly string[];
  /** A pattern the message (or the error message of a failure without an answer) must match. */
  text?: RegExp;
  /** Which request answered. */
  request?: readonly GraphRequestName[];
  /** Codes of a failure without an answer (`ECONNREFUSED`, `TimeoutError`, Entra's `AADSTS…`). */
  error?: readonly string[];
}

/** One known failure; the fields mean what they mean in the SMTP table. */
export interface GraphReplyRow
  extends Omit<ReplyTableRow, 'match' | 'failureClass' | 'exampleError'> {
  match: GraphReplyMatch;
  failureClass: GraphFailureClass;
}

/** Replies about one message first, then access and configuration, then failures without an answer. */
export const GRAPH_REPLIES: readonly GraphReplyRow[] = [
  ...GRAPH_MESSAGE_ROWS,
  ...GRAPH_ACCESS_ROWS,
];

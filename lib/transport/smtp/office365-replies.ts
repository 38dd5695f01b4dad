/**
 * The explicit table of Office 365 failures: every reply Exchange Online is known to give a
 * submitting client, plus the failures that come without a reply (socket, TLS, DNS, token endpoint).
 * The classifier, the logs, the reply tables of docs/replies.md and the `doctor` command all read
 * this one table, so an explanation or fix is written once.
 * Sources: shared/reference/office365-smtp.md §2–§6 (reply texts as Office 365 writes them).
 */
import { PERMANENT_REPLY_ROWS } from './reply-rows-permanent.ts';
import { SESSION_REPLY_ROWS } from './reply-rows-session.ts';
import { TRANSPORT_FAILURE_ROWS } from './reply-rows-transport.ts';

/** What a failure means for the message: try later, never send it, or fix the sender first. */
export type TableFailureClass = 'retry' | 'rejected' | 'config';

/** How a row recognises a failure. Every criterion given must hold. */
export interface ReplyMatch {
  /** Enhanced status codes; `x` stands for any digit (`5.2.25x`). */
  enhanced?: readonly string[];
  /** Basic reply codes. */
  code?: readonly number[];
  /** A pattern the reply text (or, for failures without a reply, the error message) must match. */
  text?: RegExp;
  /**
   * Error codes of a failure without a usable reply: nodemailer's (`ETIMEDOUT`, `ETLS`), Node's
   * socket codes (`ECONNRESET`), Entra's (`invalid_client`, `AADSTS7000215`). One of them must be present.
   */
  error?: readonly string[];
}

/** One known failure. */
export interface ReplyTableRow {
  /** Stable id, used in logs and by `doctor`. */
  id: string;
  /** A few words, used as the start of the failure reason. */
  title: string;
  /** Where it shows up: an SMTP step, `connect`, `TLS`, `token endpoint`. */
  stage: string;
  match: ReplyMatch;
  /** The reply (or error message) exactly as Office 365, Entra or Node writes it. */
  example: string;
  /** For failures without a reply: the fields of the error as nodemailer or the token provider reports it. */
  exampleError?: { code: string; originalCode?: string; command?: string; httpStatus?: number };
  failureClass: TableFailureClass;
  /** What it means, in plain words. */
  explanation: string;
  /** What to do about it. */
  fix: string;
  /** A floor for the retry backoff (throttling wants at least a minute). */
  minDelaySeconds?: number;
}

/** Every known failure: SMTP replies first (matched by enhanced code, then basic code), then failures without a reply. */
export const OFFICE365_REPLIES: readonly ReplyTableRow[] = [
  ...SESSION_REPLY_ROWS,
  ...PERMANENT_REPLY_ROWS,
  ...TRANSPORT_FAILURE_ROWS,
];

/**
 * Errors thrown by the library. Names are literal strings (esbuild minifies class names), and every
 * field is set in the constructor. Expected outcomes travel as data; these are for callers that asked
 * for an exception (`parseMailMessage`, `MailQueue.send`) or for the `error` of a batch result.
 */

/** Base class of every error this package throws. */
export class MailQueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MailQueueError';
  }
}

/** One problem with a mail message: where (`to[0].address`, `subject`, `""` for the whole) and what. */
export interface MailMessageIssue {
  path: string;
  message: string;
}

/** The message breaks the contract; `issues` says, field by field, what is wrong and how to fix it. */
/**
 * At most this many issues go into one line of text (an error message, a dead letter's
 * `FailureReason`, a log line): 500 bad addresses are one problem repeated; the rest are counted.
 * Every issue stays in `InvalidMailMessageError.issues`.
 */
export const MAX_ISSUES_IN_TEXT = 3;

/** The issues as one line of text: the first few, and how many more there are. */
export function issuesText(issues: readonly MailMessageIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_IN_TEXT).map((i) => i.message);
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${more} more problems` : shown.join('; ');
}

export class InvalidMailMessageError extends MailQueueError {
  readonly issues: MailMessageIssue[];
  constructor(issues: MailMessageIssue[], options?: { cause?: unknown }) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`Invalid mail message (${count}): ${issuesText(issues)}`, options);
    this.name = 'InvalidMailMessageError';
    this.issues = issues;
  }
}

/** An option given to `MailQueue` or one of its calls cannot work (e.g. FIFO without `groupId`). */
export class InvalidSendOptionsError extends MailQueueError {
  /** The option at fault, e.g. `groupId`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(message);
    this.name = 'InvalidSendOptionsError';
    this.option = option;
  }
}

/** SQS did not take the message. `retryable` says whether a later attempt may succeed. */
export class QueueSendError extends MailQueueError {
  /** SQS error code, e.g. `InternalError`, `AWS.SimpleQueueService.NonExistentQueue`. */
  readonly code: string;
  /**
   * True for SQS's own or the network's fault; false when SQS blamed the request (`SenderFault`)
   * or the client cannot work as configured (no region, no credentials).
   */
  readonly retryable: boolean;
  constructor(message: string, code: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueSendError';
    this.code = code;
    this.retryable = retryable;
  }
}

/** An unexpected error in a few words, for a reason or a log line: `Name: message`. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Errors of the SMTP transaction layer, in the shape nodemailer gives its own (`_formatError`:
 * `code`, `command`, `response`, `responseCode`, and for refused recipients `rejected` and
 * `rejectedErrors`), so one classifier (`classify-smtp-failure.ts`) reads both: what fails while
 * connecting or authenticating (nodemailer) and what fails in a transaction (this layer).
 */
export interface SmtpFailure extends Error {
  /** `EENVELOPE`, `EMESSAGE`, `ECONNECTION`, `ESOCKET`, `ETIMEDOUT`, `EPROTOCOL`, `ENOTSENT`. */
  code: string;
  /** The step: `MAIL FROM`, `RCPT TO`, `DATA`, `BDAT`, `RSET`, `CONN`, `API`. */
  command: string;
  /** The server's reply, when there was one. */
  response?: string;
  responseCode?: number;
  /** The socket's own code (e.g. `ECONNRESET`) when `code` is `ESOCKET`. */
  originalCode?: string;
  /** Recipients the server refused (a message that all recipients refused). */
  rejected?: string[];
  rejectedErrors?: RecipientFailure[];
}

/** One refused recipient: its RCPT TO reply. */
export interface RecipientFailure extends SmtpFailure {
  recipient: string;
}

export function smtpFailure(
  message: string,
  code: string,
  command: string,
  response?: string,
): SmtpFailure {
  const err = new Error(response ? `${message}: ${response}` : message) as SmtpFailure;
  err.code = code;
  err.command = command;
  if (response) {
    err.response = response;
    const responseCode = Number.parseInt(response.slice(0, 3), 10);
    if (responseCode) err.responseCode = responseCode;
  }
  return err;
}

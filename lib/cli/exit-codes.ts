/**
 * Exit codes of `o365-mail`, documented in docs/operations.md (the `o365-mail` command line).
 * Scripts may rely on them.
 */
export const EXIT = {
  /** Everything asked for was done, every check passed. */
  ok: 0,
  /** The command ran and found a problem: a doctor step failed, a message is invalid, a dead letter was not found, a redrive left messages behind. */
  failure: 1,
  /** Usage or configuration error: unknown option, missing argument, no queue to talk to, unreadable file. */
  usage: 2,
  /** The queue service (SQS, CloudFormation, CloudWatch) could not be reached or refused the call. */
  service: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

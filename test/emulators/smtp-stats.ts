/** Counters of the SMTP emulator; `reset()` zeroes them in place. */
export interface SmtpStats {
  /** TCP connections accepted. */
  connections: number;
  /** TLS sessions established (STARTTLS or implicit). */
  tlsHandshakes: number;
  /** AUTH exchanges that reached a decision (over TLS, LOGIN or XOAUTH2). */
  authAttempts: number;
  authSuccesses: number;
  authFailures: number;
  /** AUTH commands sent without TLS (refused `504 5.7.4`; a client that does this leaks credentials). */
  insecureAuthAttempts: number;
  /** Messages accepted (250 after DATA). */
  messages: number;
  /** Messages refused after DATA (send-as, recipient quota, scripted reply). */
  rejectedMessages: number;
  /** Connections reset mid-DATA by `dropNextData`. */
  droppedMessages: number;
  /** MAIL FROM refused by the per-mailbox rate limit. */
  rateLimited: number;
  /** Sessions ended for input sent before a reply it had to wait for (RFC 2920 synchronization). */
  protocolErrors: number;
  /**
   * RSETs that came alone, with nothing pipelined behind them: a round trip of their own, as a
   * client checking a kept session spends it (`commands.RSET` also counts the RSETs a pipelining
   * client puts ahead of a message).
   */
  resetChecks: number;
  /** MAIL FROM refused because the mailbox had more connections open than allowed (`432 4.3.2`). */
  concurrencyLimited: number;
  /** Command lines by verb (`EHLO`, `STARTTLS`, `AUTH`, `MAIL`, `RCPT`, `DATA`, `QUIT`, ...). */
  commands: Record<string, number>;
}

export function emptyStats(): SmtpStats {
  return {
    connections: 0,
    tlsHandshakes: 0,
    authAttempts: 0,
    authSuccesses: 0,
    authFailures: 0,
    insecureAuthAttempts: 0,
    messages: 0,
    rejectedMessages: 0,
    droppedMessages: 0,
    rateLimited: 0,
    protocolErrors: 0,
    resetChecks: 0,
    concurrencyLimited: 0,
    commands: {},
  };
}

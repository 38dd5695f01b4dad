import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import {
  bannerText,
  ehloLines,
  type FrontEnd,
  frontEndHost,
  O365_REPLIES,
  parseReply,
} from './office365-replies.ts';
import { addTransactionRules } from './office365-transactions.ts';

/**
 * smtp-server writes fixed replies (`250 Accepted`, `354 End data with ...`, its own EHLO list).
 * Office 365 words them differently and clients key on those words, so each connection's `send` is
 * wrapped to translate them. Replies built by this emulator already carry their enhanced code and
 * pass through (the server runs with `hideENHANCEDSTATUSCODES`, so smtp-server adds none itself).
 */
const BUILT_IN_REPLIES: Record<string, string> = {
  '220 Ready to start TLS': O365_REPLIES.startTls,
  '354 End data with <CR><LF>.<CR><LF>': O365_REPLIES.startMailInput,
  '221 Bye': O365_REPLIES.quit,
  '235 Authentication successful': O365_REPLIES.authSuccess,
  '504 Error: Unrecognized authentication type': O365_REPLIES.unrecognizedAuth,
  // AUTH before STARTTLS: no AUTH is advertised there, so the mechanism is "unrecognized".
  '538 Error: Must issue a STARTTLS command first': O365_REPLIES.unrecognizedAuth,
  '503 Error: need MAIL command': O365_REPLIES.badSequence,
  '503 Error: need RCPT command': O365_REPLIES.badSequence,
  '503 Error: nested MAIL command': O365_REPLIES.badSequence,
  '503 Error: No identity changes permitted': O365_REPLIES.badSequence,
  '503 Error: send HELO/EHLO first': O365_REPLIES.sendHelloFirst,
  '503 Error: TLS already active': O365_REPLIES.oneStartTls,
  '500 Error: command not recognized': O365_REPLIES.unrecognizedCommand,
  '501 Error: Bad sender address syntax': O365_REPLIES.invalidAddress,
  '501 Error: Bad recipient address syntax': O365_REPLIES.invalidAddress,
  '501 Error: invalid userdata': O365_REPLIES.invalidArguments,
  '501 Authentication aborted': O365_REPLIES.invalidArguments,
  '452 Error: too many recipients': O365_REPLIES.tooManyRecipients,
  '421 Server shutting down': O365_REPLIES.serviceNotAvailable,
  '421 Timeout - closing connection': O365_REPLIES.timedOut,
  '421 Error: too many unrecognized commands': O365_REPLIES.tooManyErrors,
  '250 OK': '250 2.0.0 OK',
  '250 Flushed': '250 2.0.0 Resetting',
};

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}( |$)/;

// smtp-server answers MAIL and RCPT with the same `250 Accepted`; its context names which.
const BY_CONTEXT: Record<string, string> = {
  MAIL_FROM_OK: O365_REPLIES.senderOk,
  RCPT_TO_OK: O365_REPLIES.recipientOk,
};

function translate(code: number, text: string, context: unknown): string {
  if (code === 250 && text === 'Accepted' && typeof context === 'string' && BY_CONTEXT[context]) {
    return BY_CONTEXT[context];
  }
  const known = BUILT_IN_REPLIES[`${code} ${text}`];
  if (known) return known;
  if (code === 552 && text.startsWith('Error: message exceeds')) return O365_REPLIES.messageTooBig;
  // ENHANCEDSTATUSCODES is advertised, so every 2xx/4xx/5xx reply needs one (RFC 2034).
  if (code >= 200 && (code < 300 || code >= 400) && !ENHANCED.test(text)) {
    return `${code} ${Math.floor(code / 100)}.0.0 ${text}`.trimEnd();
  }
  return text ? `${code} ${text}` : `${code}`;
}

/** What the decoration needs from the emulator. */
export interface ConnectionHooks {
  frontEnd: FrontEnd;
  offerStartTls: boolean;
  /** Offer PIPELINING (else a command sent before the previous reply ends the session). */
  pipelining: boolean;
  /** Offer CHUNKING and BINARYMIME and accept BDAT. */
  chunking: boolean;
  /** Called for each synchronization error (input sent before a reply it had to wait for). */
  onProtocolError(verb: string): void;
  /** Called for each RSET that came alone (a round trip of its own: a client checking the session). */
  onLoneReset(): void;
  /** Called for each command line (not for SASL continuation lines or message data). */
  onCommand(verb: string): void;
  /** Called for each AUTH command (also the ones refused because TLS is not up). */
  onAuthCommand(secure: boolean): void;
}

interface Internals {
  name: string;
  secure: boolean;
  remoteAddress: string;
  _nextHandler: unknown;
  _sendGreeting(): void;
  _setListeners(callback: () => void): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  handler_AUTH(command: Buffer, callback: () => void): void;
}

/** Makes one smtp-server connection speak like smtp.office365.com. Call before `init()`. */
export function decorateConnection(connection: SMTPConnection, hooks: ConnectionHooks): void {
  const conn = connection as unknown as SMTPConnection & Internals;
  const send = conn.send.bind(conn);
  const fe = hooks.frontEnd;
  conn.name = frontEndHost(fe);
  conn.send = (code, data, context) => {
    if (code === 334) return send(code, data, false);
    if (code === 250 && Array.isArray(data)) {
      const lines = ehloLines(fe, conn.remoteAddress, {
        secure: conn.secure,
        offerStartTls: hooks.offerStartTls,
        pipelining: hooks.pipelining,
        chunking: hooks.chunking,
      });
      return send(250, lines, false);
    }
    if (code === 250 && data === `${frontEndHost(fe)} Hello`) {
      return send(250, `${data} [${conn.remoteAddress}]`, false);
    }
    const reply = parseReply(
      translate(code, Array.isArray(data) ? data.join(' ') : (data ?? ''), context),
    );
    return send(reply.code, reply.text, false);
  };
  conn._sendGreeting = () => send(220, bannerText(fe), false);
  // smtp-server holds every greeting back 100 ms to catch early talkers; that would add a fixed
  // 100 ms to each connection the bench measures. Latency comes from `networkLatencyMs` (or
  // `replyDelayMs`) instead.
  conn.init = () => conn._setListeners(() => conn.connectionReady());

  const onCommand = conn._onCommand.bind(conn);
  conn._onCommand = (command, callback) => {
    if (!conn._nextHandler) {
      hooks.onCommand((command ?? '').toString().split(' ')[0]!.toUpperCase());
    }
    onCommand(command, callback);
  };

  const handleAuth = conn.handler_AUTH.bind(conn);
  conn.handler_AUTH = (command, callback) => {
    hooks.onAuthCommand(conn.secure);
    // smtp-server lets AUTH through on plaintext when STARTTLS is disabled; Office 365 never does.
    if (!conn.secure) {
      send(504, O365_REPLIES.unrecognizedAuth.slice(4), false);
      return callback();
    }
    handleAuth(command, callback);
  };

  addTransactionRules(connection, hooks);
}

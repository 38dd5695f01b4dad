import { randomBytes } from 'node:crypto';

/**
 * Reply texts of smtp.office365.com as transcribed in shared/reference/office365-smtp.md §2–§5.
 * Kept in one place so tests and the failure-class table can compare against the same strings.
 */
export const O365_REPLIES = {
  startTls: '220 2.0.0 SMTP server ready',
  authSuccess: '235 2.7.0 Authentication successful',
  authFailed: '535 5.7.3 Authentication unsuccessful',
  smtpAuthDisabledMailbox:
    '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
  basicAuthDisabled: '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
  unrecognizedAuth: '504 5.7.4 Unrecognized authentication type',
  startTlsRequired: '451 5.7.3 STARTTLS is required to send mail',
  notAuthenticated: '530 5.7.57 Client not authenticated to send mail.',
  senderOk: '250 2.1.0 Sender OK',
  recipientOk: '250 2.1.5 Recipient OK',
  hveExternalRecipient:
    '550 5.5.105 External sending is not supported for High Volume Email accounts',
  startMailInput: '354 Start mail input; end with <CRLF>.<CRLF>',
  quit: '221 2.0.0 Service closing transmission channel',
  rateLimited:
    '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
  recipientQuotaExceeded:
    '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.',
  senderThreadLimit: '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
  concurrentConnections: '432 4.3.2 Concurrent connections limit exceeded',
  badSequence: '503 5.5.1 Bad sequence of commands',
  sendHelloFirst: '503 5.5.2 Send hello first',
  oneStartTls: '503 5.5.2 Only one STARTTLS command can be issued per session',
  invalidArguments: '501 5.5.4 Invalid arguments',
  unrecognizedCommand: '500 5.3.3 Unrecognized command',
  invalidAddress: '501 5.1.3 Invalid address',
  tooManyRecipients: '452 4.5.3 Too many recipients',
  messageTooBig: '552 5.3.4 Message size exceeds fixed maximum message size',
  timedOut: '421 4.4.1 Connection timed out',
  serviceNotAvailable: '421 4.3.2 Service not available',
  tooManyErrors: '421 4.7.0 Too many errors on this connection, closing transmission channel',
} as const;

/** Size advertised by Office 365 (150 MB). */
export const O365_MAX_SIZE = 157_286_400;

/** Identity of one emulated front-end session, used in the banner and reply trailers. */
export interface FrontEnd {
  /** e.g. `SY5P282CA0097` */
  server: string;
  /** e.g. `AUSP282` */
  region: string;
  /** 16 hex digits, e.g. `08DE2A6028D26C22` */
  sessionId: string;
}

export function newFrontEnd(): FrontEnd {
  const digits = () => String(randomBytes(2).readUInt16BE() % 10_000).padStart(4, '0');
  return {
    server: `EM1P282CA${digits()}`,
    region: 'EMUP282',
    sessionId: randomBytes(8).toString('hex').toUpperCase(),
  };
}

/** `<server>.outlook.office365.com` */
export function frontEndHost(fe: FrontEnd): string {
  return `${fe.server}.outlook.office365.com`;
}

/** `[<SERVER>.<REGION>.PROD.OUTLOOK.COM 2026-03-05T11:41:09.483Z 08DE7A509B86EADD]` (2024+ replies). */
export function trailer(fe: FrontEnd, now = new Date()): string {
  return `[${fe.server}.${fe.region}.PROD.OUTLOOK.COM ${now.toISOString()} ${fe.sessionId}]`;
}

/** Greeting text after `220 `. */
export function bannerText(fe: FrontEnd, now = new Date()): string {
  return `${frontEndHost(fe)} Microsoft ESMTP MAIL Service ready at ${now.toUTCString().replace('GMT', '+0000')} [${fe.sessionId}]`;
}

/** EHLO lines (without codes) in Office 365's order, before or after TLS. */
export function ehloLines(
  fe: FrontEnd,
  clientIp: string,
  state: { secure: boolean; offerStartTls: boolean; pipelining?: boolean; chunking?: boolean },
): string[] {
  const lines = [`${frontEndHost(fe)} Hello [${clientIp}]`, `SIZE ${O365_MAX_SIZE}`];
  if (state.pipelining ?? true) lines.push('PIPELINING');
  lines.push('DSN', 'ENHANCEDSTATUSCODES');
  if (state.secure) lines.push('AUTH LOGIN XOAUTH2');
  if (!state.secure && state.offerStartTls) lines.push('STARTTLS');
  lines.push('8BITMIME');
  if (state.chunking ?? true) lines.push('BINARYMIME', 'CHUNKING');
  lines.push('SMTPUTF8');
  return lines;
}

/** `554 5.2.252 SendAsDenied; ...` as Office 365 answers a From the mailbox may not use. */
export function sendAsDenied(user: string, from: string, fe: FrontEnd): string {
  return `554 5.2.252 SendAsDenied; ${user} not allowed to send as ${from}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. [Hostname=${fe.server}.${fe.region}.PROD.OUTLOOK.COM]`;
}

/** The final 250 after DATA: `250 2.0.0 OK <message-id> [Hostname=...]`. */
export function queuedOk(messageId: string | undefined, fe: FrontEnd): string {
  const id = messageId ? `${messageId.startsWith('<') ? messageId : `<${messageId}>`} ` : '';
  return `250 2.0.0 OK ${id}[Hostname=${fe.server}.${fe.region}.PROD.OUTLOOK.COM]`;
}

/** An SMTP reply split into its basic code and the rest (enhanced code + text). */
export interface ParsedReply {
  code: number;
  text: string;
}

/** Parses `"550 5.1.10 text"` → `{ code: 550, text: '5.1.10 text' }`; throws on anything else. */
export function parseReply(reply: string): ParsedReply {
  const match = /^([2-5]\d\d) (.+)$/s.exec(reply);
  if (!match) throw new Error(`Not an SMTP reply: ${JSON.stringify(reply)}`);
  return { code: Number(match[1]), text: match[2]! };
}

/** An Error that smtp-server turns into exactly `reply` (see `responseCode`). */
export function replyError(reply: string): Error & { responseCode: number } {
  const { code, text } = parseReply(reply);
  return Object.assign(new Error(text), { responseCode: code });
}

import { PassThrough } from 'node:stream';
import type { SMTPServerDataStream } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { ChunkingSmtpStream } from './chunking-smtp-stream.ts';
import { O365_REPLIES } from './office365-replies.ts';

/**
 * What smtp-server lacks to take mail the way Exchange Online does, added to one connection:
 *
 * - CHUNKING (RFC 3030): `BDAT <size> [LAST]`, chunks pipelined or not, the message handed to the
 *   same `onData` as a DATA message once the LAST chunk is in. A refused BDAT still has its bytes
 *   read (they are on the wire), so the commands behind it are understood.
 * - BINARYMIME: `MAIL FROM:<...> BODY=BINARYMIME` is accepted (smtp-server refuses it) and such a
 *   message must come with BDAT: DATA is a bad sequence.
 * - Command order: BDAT without a sender or a recipient, and DATA in the middle of a BDAT
 *   transaction, are `503 5.5.1 Bad sequence of commands`, as MAIL inside a transaction already is.
 * - Synchronization (RFC 2920): a message body sent before the 354 (DATA must end a pipelined group)
 *   and, when PIPELINING is not offered, any command sent before the previous reply: the session
 *   ends with `421 4.5.0` (Exchange's own wording for this is not documented).
 */
export interface TransactionOptions {
  /** Offer CHUNKING and BINARYMIME and accept BDAT. */
  chunking: boolean;
  /** Offer PIPELINING; without it, a command sent before the previous reply ends the session. */
  pipelining: boolean;
  /** Counts each synchronization error (the emulator's `stats.protocolErrors`). */
  onProtocolError(verb: string): void;
  /** Counts each RSET that came alone, nothing pipelined behind it (`stats.resetChecks`). */
  onLoneReset(): void;
}

/** Marks a message that came with BDAT, so the emulator can record how it was sent. */
export interface ChunkedDataStream extends SMTPServerDataStream {
  chunked?: boolean;
}

export const PROTOCOL_SYNC_ERROR =
  '421 4.5.0 SMTP protocol synchronization error: input was sent before the previous reply';

interface Internals {
  _parser: ChunkingSmtpStream | false;
  _server: SMTPConnection['_server'];
  _transactionCounter: number;
  _unrecognizedCommands: number;
  _nextHandler: unknown;
  session: SMTPConnection['session'];
  send(code: number, data?: string, context?: unknown): void;
  _createParser(): ChunkingSmtpStream;
  _resetSession(): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  _validateMailParams(parsed: { args?: Record<string, unknown> | false }): unknown;
  _applyMailParams(parsed: unknown): void;
  _isOversized(bytes: number): boolean;
  handler_DATA(command: Buffer, callback: () => void): void;
  handler_BDAT?(command: Buffer, callback: () => void): void;
}

/** One BDAT transaction in progress: the chunks so far, or the refusal that voids it. */
interface ChunkedTransaction {
  chunks: Buffer[];
  bytes: number;
}

const BDAT = /^BDAT\s+(\d{1,15})(\s+LAST)?\s*$/i;

/** Adds BDAT, BINARYMIME and the order checks to `connection`. Call before `init()`. */
export function addTransactionRules(connection: SMTPConnection, options: TransactionOptions): void {
  const conn = connection as unknown as Internals;
  const reply = (text: string) => {
    const [code, ...rest] = text.split(' ');
    conn.send(Number(code), rest.join(' '), false);
  };

  // The parser is made in the constructor and again after STARTTLS: both times ours.
  const createParser = conn._createParser.bind(conn);
  conn._createParser = () => {
    const plain = createParser();
    const parser = new ChunkingSmtpStream({ maxCommandLength: plain._maxCommandLength });
    parser.oncommand = plain.oncommand;
    for (const listener of plain.listeners('error')) parser.on('error', listener as () => void);
    return parser;
  };
  conn._parser = conn._createParser();

  let transaction: ChunkedTransaction | undefined;
  const resetSession = conn._resetSession.bind(conn);
  conn._resetSession = () => {
    transaction = undefined;
    resetSession();
  };

  const onCommand = conn._onCommand.bind(conn);
  conn._onCommand = (command, callback) => {
    const parser = conn._parser;
    if (parser) parser.commandTaken(command);
    const verb = conn._nextHandler ? '' : command.toString().split(' ')[0]!.toUpperCase();
    const waiting = parser ? parser.inputWaiting : 0;
    // BDAT is followed by its chunk; what follows the chunk is checked with the next command.
    const mustBeAlone = verb === 'DATA' || (!options.pipelining && verb !== 'BDAT');
    if (waiting > 0 && mustBeAlone) {
      options.onProtocolError(verb || 'AUTH');
      reply(PROTOCOL_SYNC_ERROR);
      return;
    }
    if (verb === 'RSET' && waiting === 0) options.onLoneReset();
    onCommand(command, callback);
  };

  const validateMailParams = conn._validateMailParams.bind(conn);
  conn._validateMailParams = (parsed) => {
    const args = parsed.args || {};
    const body = typeof args.BODY === 'string' ? args.BODY.toUpperCase() : undefined;
    if (body !== 'BINARYMIME') return validateMailParams(parsed);
    if (!options.chunking) {
      return { code: 501, message: 'Error: BODY=BINARYMIME is not offered', enhancedCode: null };
    }
    const { BODY: _body, ...rest } = args;
    return validateMailParams({ ...parsed, args: rest });
  };

  const handleData = conn.handler_DATA.bind(conn);
  conn.handler_DATA = (command, callback) => {
    // A BINARYMIME body cannot be dot-stuffed text, and a chunked message cannot change transfer.
    if (transaction || conn.session.envelope.bodyType === 'binarymime') {
      reply(O365_REPLIES.badSequence);
      return callback();
    }
    handleData(command, callback);
  };

  if (!options.chunking) return;
  conn.handler_BDAT = (command, callback) => {
    const parser = conn._parser;
    if (!parser) return callback();
    const match = BDAT.exec(command.toString());
    if (!match) {
      reply(O365_REPLIES.invalidArguments);
      return callback();
    }
    const size = Number(match[1]);
    const last = match[2] !== undefined;
    const { envelope } = conn.session;
    // Refused chunks are still read: their bytes are on the wire, and what follows is a command.
    const refusal =
      !envelope.mailFrom || envelope.rcptTo.length === 0 ? O365_REPLIES.badSequence : undefined;
    if (!refusal && !transaction) transaction = { chunks: [], bytes: 0 };
    const current = refusal ? undefined : transaction;
    parser.startChunk(size, {
      write(bytes) {
        if (!current) return;
        current.chunks.push(Buffer.from(bytes));
        current.bytes += bytes.length;
      },
      end(resume) {
        if (refusal || !current) {
          reply(refusal ?? O365_REPLIES.badSequence);
          return resume();
        }
        if (!last) {
          conn.send(250, `2.0.0 ${size} bytes received`, false);
          return resume();
        }
        finishMessage(conn, current, resume);
      },
    });
    callback();
  };
}

/** The LAST chunk is in: the whole message goes through `onData`, as a DATA message would. */
function finishMessage(conn: Internals, message: ChunkedTransaction, resume: () => void): void {
  const done = (err?: (Error & { responseCode?: number }) | null, text?: unknown) => {
    if (err) conn.send(err.responseCode || 450, err.message);
    else conn.send(250, typeof text === 'string' ? text : 'OK: message queued', 'DATA_OK');
    conn._transactionCounter++;
    conn._unrecognizedCommands = 0;
    conn._resetSession();
    resume();
  };
  if (conn._isOversized(message.bytes)) {
    const [code, ...text] = O365_REPLIES.messageTooBig.split(' ');
    done(Object.assign(new Error(text.join(' ')), { responseCode: Number(code) }));
    return;
  }
  const stream = new PassThrough() as unknown as ChunkedDataStream;
  stream.byteLength = message.bytes;
  stream.sizeExceeded = false;
  stream.chunked = true;
  conn._server.onData(stream, conn.session, (err, text) => done(err, text));
  stream.end(Buffer.concat(message.chunks, message.bytes));
}

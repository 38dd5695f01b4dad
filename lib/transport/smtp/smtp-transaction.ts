/**
 * One message's SMTP transaction: the commands it takes (as steps the pipeline writes when the
 * server's extensions allow), what each reply means, and the result, reported as nodemailer
 * reports a send (`accepted`, `rejected`, `rejectedErrors`, `response`) or fails one (see
 * `smtp-failure.ts`).
 *
 * With CHUNKING: `MAIL`, `RCPT`..., `BDAT <size> LAST` and the bytes (no dot-stuffing). Without:
 * `MAIL`, `RCPT`..., `DATA`, then after the 354 the dot-stuffed body. A transaction that follows
 * one whose server state is not known to be clean starts with `RSET` (see `SmtpPipeline`).
 */
import { isAscii } from 'node:buffer';
import type { ComposedMime } from '../../types.ts';
import { byteLength, crlfBody, dotStuffedBody } from './message-body.ts';
import type { SmtpExtensions } from './smtp-extensions.ts';
import { type RecipientFailure, type SmtpFailure, smtpFailure } from './smtp-failure.ts';
import type { SmtpReplyLine } from './smtp-reply-reader.ts';

/** What a sent message reports (nodemailer's `SMTPConnection.send` info, the fields used here). */
export interface SentInfo {
  /** The reply to the end of the message (`250 2.0.0 OK ...`). */
  response: string;
  accepted: string[];
  rejected: string[];
  rejectedErrors?: RecipientFailure[];
}

/** One write of the pipeline and the reply it expects. */
export interface TransactionStep {
  /** The bytes, built when the step is written. */
  bytes(): (string | Buffer)[];
  /** False: skip the step (a lock-step session after a refusal that made it pointless). */
  when(): boolean;
  /** RFC 2920: this command ends a pipelined group; nothing more is written before its reply. */
  endsGroup: boolean;
  onReply(reply: SmtpReplyLine): void;
}

const ASCII_ONLY = /^[\x20-\x7e]*$/;

export class SmtpTransaction {
  readonly mime: ComposedMime;
  readonly result: Promise<SentInfo>;
  /** Told when the transaction's first command is written. */
  readonly onWritten: (() => void) | undefined;
  /** Set once the result is decided. */
  settled = false;
  /** True once the end of the message (DATA's terminator) is written: the server's transaction ends with its reply, whatever it says. */
  endWritten = false;
  readonly #resolve: (info: SentInfo) => void;
  readonly #reject: (err: SmtpFailure) => void;
  #resetFailure: SmtpFailure | undefined;
  #mailFailure: SmtpFailure | undefined;
  #mailAccepted = false;
  #dataReply: SmtpReplyLine | undefined;
  #finalReply: SmtpReplyLine | undefined;
  readonly #accepted: string[] = [];
  readonly #rejected: string[] = [];
  readonly #rejectedErrors: RecipientFailure[] = [];

  constructor(mime: ComposedMime, onWritten?: () => void) {
    this.mime = mime;
    this.onWritten = onWritten;
    let resolve!: (info: SentInfo) => void;
    let reject!: (err: SmtpFailure) => void;
    this.result = new Promise<SentInfo>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Rejections are always handled by whoever submitted it; this keeps an unobserved one quiet.
    this.result.catch(() => undefined);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Why the message cannot be sent at all (checked before anything is written), or undefined. */
  refusedLocally(extensions: SmtpExtensions): SmtpFailure | undefined {
    const { from, to } = this.mime.envelope;
    if (to.length === 0) return smtpFailure('No recipients defined', 'EENVELOPE', 'API');
    for (const address of [from || '', ...to]) {
      if (/[\r\n<>]/.test(address)) {
        return smtpFailure(`Invalid address ${JSON.stringify(address)}`, 'EENVELOPE', 'API');
      }
    }
    if (extensions.maxSize !== undefined && this.mime.raw.length > extensions.maxSize) {
      return smtpFailure(
        `Message size larger than allowed ${extensions.maxSize}`,
        'EMESSAGE',
        'MAIL FROM',
      );
    }
    return undefined;
  }

  /**
   * The steps of this transaction, in order. `lockStep`: no PIPELINING, so every step waits for
   * the previous reply and steps a refusal made pointless are skipped.
   */
  steps(extensions: SmtpExtensions, reset: boolean, lockStep: boolean): TransactionStep[] {
    const always = () => true;
    const envelopeStillOpen = () => !lockStep || (!this.#resetFailure && !this.#mailFailure);
    const steps: TransactionStep[] = [];
    if (reset) {
      steps.push({
        bytes: () => ['RSET\r\n'],
        when: always,
        endsGroup: false,
        onReply: (reply) => {
          if (reply.code >= 300) {
            this.#resetFailure = smtpFailure(
              'Could not reset session state',
              'EPROTOCOL',
              'RSET',
              reply.text,
            );
          }
        },
      });
    }
    steps.push({
      bytes: () => [this.#mailCommand(extensions)],
      when: () => !lockStep || !this.#resetFailure,
      endsGroup: false,
      onReply: (reply) => this.#onMail(reply),
    });
    for (const recipient of this.mime.envelope.to) {
      steps.push({
        bytes: () => [`RCPT TO:<${recipient}>\r\n`],
        when: envelopeStillOpen,
        endsGroup: false,
        onReply: (reply) => this.#onRcpt(recipient, reply),
      });
    }
    const worthSending = () => !lockStep || this.#envelopeFailure() === undefined;
    if (extensions.chunking) {
      steps.push({
        bytes: () => {
          this.endWritten = true;
          const body = crlfBody(this.mime.raw);
          return [`BDAT ${byteLength(body)} LAST\r\n`, ...body];
        },
        when: worthSending,
        endsGroup: false,
        onReply: (reply) => {
          this.#finalReply = reply;
        },
      });
      return steps;
    }
    steps.push({
      bytes: () => ['DATA\r\n'],
      when: worthSending,
      endsGroup: true,
      onReply: (reply) => {
        this.#dataReply = reply;
      },
    });
    steps.push({
      // A server that answers DATA with 354 although nobody was accepted gets an empty message
      // ended at once (nodemailer does the same): the session stays in step.
      bytes: () => {
        this.endWritten = true;
        return this.#envelopeFailure() ? ['.\r\n'] : dotStuffedBody(this.mime.raw);
      },
      when: () => this.#dataReply !== undefined && this.#dataReply.code < 400,
      endsGroup: false,
      onReply: (reply) => {
        this.#finalReply = reply;
      },
    });
    return steps;
  }

  /** Decides the result from the replies gathered (called once every written step got its reply). */
  settle(): void {
    const failure =
      this.#resetFailure ??
      this.#envelopeFailure() ??
      this.#dataFailure() ??
      (this.#finalReply && this.#finalReply.code >= 400
        ? smtpFailure(
            'Message failed',
            'EMESSAGE',
            this.#dataReply ? 'DATA' : 'BDAT',
            this.#finalReply.text,
          )
        : undefined);
    if (failure) {
      this.fail(failure);
      return;
    }
    this.settled = true;
    const info: SentInfo = {
      response: this.#finalReply?.text ?? '',
      accepted: this.#accepted,
      rejected: this.#rejected,
    };
    if (this.#rejectedErrors.length > 0) info.rejectedErrors = this.#rejectedErrors;
    this.#resolve(info);
  }

  fail(err: SmtpFailure): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(err);
  }

  /**
   * After the result: may the server still hold this transaction open (a sender accepted but no
   * message taken)? Then the next transaction must start with RSET.
   */
  get mayLeaveTransactionOpen(): boolean {
    if (this.#resetFailure) return true;
    if (!this.#mailAccepted) return false;
    // DATA's terminator always ends the server's transaction; BDAT LAST does when it was taken.
    if (this.#dataReply) return !this.endWritten;
    return !(this.#finalReply && this.#finalReply.code < 400);
  }

  #mailCommand(extensions: SmtpExtensions): string {
    const { envelope, raw } = this.mime;
    const from = envelope.from || '';
    const params: string[] = [];
    if (extensions.maxSize !== undefined) params.push(`SIZE=${raw.length}`);
    if (extensions.eightBitMime && !isAscii(raw)) params.push('BODY=8BITMIME');
    const international = [from, ...envelope.to].some((address) => !ASCII_ONLY.test(address));
    if (international && extensions.smtpUtf8) params.push('SMTPUTF8');
    return `MAIL FROM:<${from}>${params.length ? ` ${params.join(' ')}` : ''}\r\n`;
  }

  #onMail(reply: SmtpReplyLine): void {
    if (reply.code < 300) {
      this.#mailAccepted = true;
      return;
    }
    this.#mailFailure = smtpFailure('Mail command failed', 'EENVELOPE', 'MAIL FROM', reply.text);
  }

  #onRcpt(recipient: string, reply: SmtpReplyLine): void {
    if (reply.code < 300) {
      this.#accepted.push(recipient);
      return;
    }
    const refusal = smtpFailure(
      'Recipient command failed',
      'EENVELOPE',
      'RCPT TO',
      reply.text,
    ) as RecipientFailure;
    refusal.recipient = recipient;
    this.#rejected.push(recipient);
    this.#rejectedErrors.push(refusal);
  }

  /** The sender refused, or every recipient: nothing went out. */
  #envelopeFailure(): SmtpFailure | undefined {
    if (this.#mailFailure) return this.#mailFailure;
    if (this.#accepted.length > 0) return undefined;
    if (this.#rejectedErrors.length < this.mime.envelope.to.length) return undefined;
    // A temporary refusal makes the whole message temporary (as nodemailer reports it).
    const deferred = this.#rejectedErrors.find((e) => (e.responseCode ?? 500) < 500);
    const last = this.#rejectedErrors.at(-1);
    const err = smtpFailure(
      "Can't send mail - all recipients were rejected",
      'EENVELOPE',
      'RCPT TO',
      (deferred ?? last)?.response,
    );
    err.rejected = this.#rejected;
    err.rejectedErrors = this.#rejectedErrors;
    return err;
  }

  #dataFailure(): SmtpFailure | undefined {
    if (!this.#dataReply || this.#dataReply.code < 400) return undefined;
    return smtpFailure('Data command failed', 'EENVELOPE', 'DATA', this.#dataReply.text);
  }
}

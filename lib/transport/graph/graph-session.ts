/**
 * One batch's session with Microsoft Graph: each message is one `POST /users/{MAIL_SENDER}/sendMail`
 * with the MIME the SMTP path would send, base64-encoded (`Content-Type: text/plain`), so the
 * Message-ID, headers and attachments are the same whichever door carries them. A `202 Accepted`
 * is "sent": Exchange took the message for delivery, nothing more (see docs/doors.md).
 *
 * What a batch learns stays with the batch, as with SMTP: a configuration error stops it, and a
 * throttling answer (429) or a Graph that did not answer makes the rest of the batch retry without
 * touching the network (a 429 says when to come back; another request would only be refused).
 */
import type { GraphSettings } from '../../config/sender-config.ts';
import type { ComposedMime, MailSession, SendOutcome, TokenProvider } from '../../types.ts';
import type { SessionLogger } from '../smtp/kept-smtp-connections.ts';
import { classifyGraphFailure, graphClassificationToOutcome } from './classify-graph-failure.ts';
import { GraphClient, type GraphClientStats, type GraphStep } from './graph-client.ts';
import { sendAsDraft } from './graph-draft.ts';
import {
  megabytes,
  SENDMAIL_MAX_REQUEST_BYTES,
  sendMailBodyBytes,
  withBccHeader,
} from './graph-mime.ts';
import { GRAPH_REPLIES } from './graph-replies.ts';

export interface GraphSessionOptions {
  settings: GraphSettings;
  /** `MAIL_SENDER`: the mailbox in the request URL. */
  sender: string;
  tokenProvider: TokenProvider;
  /** Where the configuration stop is logged. @default no logging */
  logger?: SessionLogger;
}

export interface GraphSessionStats extends GraphClientStats {
  /** Messages Graph accepted (202). */
  sent: number;
}

export class GraphSession implements MailSession {
  readonly #settings: GraphSettings;
  readonly #client: GraphClient;
  readonly #logger: SessionLogger | undefined;
  #sent = 0;
  /** A configuration error: every later message of the batch fails the same way. */
  #stopped: SendOutcome | undefined;
  /** Throttled, or Graph did not answer: the rest of the batch is retried later. */
  #held: SendOutcome | undefined;

  constructor(options: GraphSessionOptions) {
    this.#settings = options.settings;
    this.#client = new GraphClient(options.settings, options.tokenProvider, options.sender);
    this.#logger = options.logger;
  }

  get stats(): GraphSessionStats {
    return { ...this.#client.stats, sent: this.#sent };
  }

  async send(mime: ComposedMime): Promise<SendOutcome> {
    if (this.#stopped) return this.#stopped;
    if (this.#held) return this.#held;
    // Graph sends to every To, Cc and Bcc of the MIME: it cannot reach some of them alone, and
    // those who already got the message must not get it again. The dead letter keeps the list.
    if (mime.envelope.narrowed) {
      const reason =
        'this message is for some of its recipients only (FailureRecipients), which Graph cannot send: it sends to every To, Cc and Bcc; redrive it with MAIL_TRANSPORT=smtp';
      return { kind: 'rejected', reason };
    }
    const bodyBytes = sendMailBodyBytes(mime);
    const overLimit = bodyBytes > SENDMAIL_MAX_REQUEST_BYTES;
    if (overLimit && this.#settings.largeMessages !== 'upload') {
      return tooLargeForSendMail(bodyBytes, mime.raw.length);
    }
    try {
      const step =
        overLimit || !this.#settings.saveToSentItems
          ? await sendAsDraft(this.#client, mime, {
              detach: overLimit,
              saveToSentItems: this.#settings.saveToSentItems,
            })
          : await this.#sendMail(mime);
      return step.ok ? this.#accepted(mime, step.value) : this.#failed(step.reply);
    } catch (err) {
      return this.#failed(err);
    }
  }

  /** Nothing to give back: fetch keeps its connections alive on its own. */
  async close(): Promise<void> {}

  async #sendMail(mime: ComposedMime): Promise<GraphStep<string>> {
    const answer = await this.#client.call({
      name: 'sendMail',
      method: 'POST',
      path: this.#client.mailbox('/sendMail'),
      headers: { 'content-type': 'text/plain' },
      body: withBccHeader(mime.raw, mime.bcc).toString('base64'),
    });
    return answer.ok ? { ok: true, value: `${answer.status} Accepted` } : answer;
  }

  #accepted(mime: ComposedMime, response: string): SendOutcome {
    this.#sent++;
    // Graph answers for the whole message: no recipient is refused on its own (a bad one is a 400).
    return { kind: 'sent', response, accepted: mime.envelope.to, refused: [] };
  }

  #failed(failure: unknown): SendOutcome {
    const outcome = graphClassificationToOutcome(classifyGraphFailure(failure));
    if (outcome.kind === 'config') {
      this.#stopped = outcome;
      this.#logger?.error('Graph configuration error: no more messages are sent in this batch', {
        reason: outcome.reason,
        fix: outcome.fix,
      });
    } else if (
      outcome.kind === 'retry' &&
      (outcome.reply === undefined || outcome.reply.code === 429)
    ) {
      this.#held = outcome;
    }
    return outcome;
  }
}

/** Over sendMail's request limit with MAIL_GRAPH_LARGE_MESSAGES=reject: refused before sending. */
function tooLargeForSendMail(bodyBytes: number, mimeBytes: number): SendOutcome {
  const row = GRAPH_REPLIES.find((r) => r.id === 'graph-message-too-large')!;
  return {
    kind: 'rejected',
    reason: `${row.title}: the sendMail request would be ${megabytes(bodyBytes)} (a MIME of ${megabytes(mimeBytes)}, base64-encoded), over Graph's limit of about ${megabytes(SENDMAIL_MAX_REQUEST_BYTES)}; not sent. Fix: ${row.fix}`,
  };
}

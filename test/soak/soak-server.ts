/**
 * The server side of the soak, whichever door the sender drives: what it accepted (Message-ID and
 * when), the recipient it refuses for good, the throttling it did on its own, and the faults the
 * soak injects, each in the door's own words. The SMTP door is the Office 365 emulator; the Graph
 * door is the Graph emulator.
 */
import type { GraphEmulator } from '../emulators/graph-emulator.ts';
import type { Office365Smtp } from '../emulators/office365-smtp.ts';

export type SoakTransport = 'smtp' | 'graph';

export interface SoakServer {
  transport: SoakTransport;
  /** Accepted messages in order (250 after DATA, or 202), with the recipients each went to. */
  readonly accepted: readonly { messageId?: string; receivedAt: Date }[];
  /** The recipients the `i`-th accepted message went to (SMTP: its envelope). */
  recipientsOf(i: number): readonly string[];
  /** Resolves once at least `n` messages were accepted; rejects after `timeoutMs`. */
  waitForAccepted(n: number, timeoutMs: number): Promise<unknown>;
  /** Refuses messages to `address` for good (SMTP `550 5.1.10`, Graph `400 ErrorInvalidRecipients`). */
  rejectRecipient(address: string): void;
  /**
   * Throttling the server decided on its own: SMTP's `421 4.4.2` over its minute limit (the
   * limiter should prevent every one), Graph's `429 MailboxConcurrency`.
   */
  readonly throttled: number;
  faults: SoakServerFaults;
}

/** The server-side faults of the soak, in the door's words. */
export interface SoakServerFaults {
  /** A temporary refusal of one message. */
  temporaryReply(): void;
  /** A throttling answer for one message. */
  throttlingReply(random: () => number): void;
  /** The connection breaks while one message is on its way; nothing is accepted. */
  dropMidMessage(): void;
  /** One message is accepted, but the answer comes `ms` late (after the client gave up). */
  stallAfterAccepting(ms: number): void;
  /** A slow-server episode: the next answers each take `ms`, before anything is accepted. */
  slowEpisode(ms: number): void;
  /**
   * A temporary refusal of some recipients of one message while the others take it (SMTP
   * `450 4.2.1` for one, or `452 4.5.3` for two); absent where the door cannot tell recipients
   * apart (Graph takes or refuses a message whole).
   */
  deferRecipients?(random: () => number): void;
}

export function smtpSoakServer(smtp: Office365Smtp): SoakServer {
  return {
    transport: 'smtp',
    accepted: smtp.messages,
    recipientsOf: (i) => smtp.messages[i]?.envelope.to ?? [],
    waitForAccepted: (n, timeoutMs) => smtp.waitForMessages(n, timeoutMs),
    rejectRecipient: (address) =>
      smtp.rejectRecipient(
        address,
        '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
      ),
    get throttled() {
      return smtp.stats.rateLimited;
    },
    faults: {
      temporaryReply: () =>
        smtp.failNext(
          'data',
          '451 4.7.0 Temporary server error. Please try again later. PRX4 [SOAK.PROD.OUTLOOK.COM]',
        ),
      throttlingReply: (random) =>
        random() < 0.5
          ? smtp.failNext(
              'mail',
              '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
            )
          : smtp.failNext('mail', '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded'),
      dropMidMessage: () => smtp.dropNextData(),
      stallAfterAccepting: (ms) => smtp.stallNext('data', ms),
      // Each reply stays under the client's socket timeout, but MAIL and three RCPTs together
      // outlast the time a batch has left; spread over the concurrent sessions.
      slowEpisode: (ms) => {
        smtp.stallNext('mail', ms, 4);
        smtp.stallNext('rcpt', ms, 12);
      },
      deferRecipients: (random) =>
        random() < 0.5
          ? smtp.failNext('rcpt', '450 4.2.1 Mailbox temporarily unavailable, try again later')
          : smtp.failNext('rcpt', '452 4.5.3 Too many recipients', 2),
    },
  };
}

export function graphSoakServer(graph: GraphEmulator): SoakServer {
  return {
    transport: 'graph',
    accepted: graph.messages,
    recipientsOf: (i) => graph.messages[i]?.recipients ?? [],
    waitForAccepted: (n, timeoutMs) => graph.waitForMessages(n, timeoutMs),
    rejectRecipient: (address) => graph.rejectRecipient(address),
    get throttled() {
      return graph.stats.throttled;
    },
    faults: {
      temporaryReply: () =>
        graph.failNext({
          status: 503,
          code: 'ServiceUnavailable',
          message: 'The service is temporarily unavailable.',
        }),
      throttlingReply: () =>
        graph.failNext({
          status: 429,
          code: 'ApplicationThrottled',
          message: 'Application is over its MailboxConcurrency limit.',
          headers: { 'retry-after': '2' },
        }),
      dropMidMessage: () => graph.dropNext(),
      stallAfterAccepting: (ms) => graph.stallNext(ms),
      // One request per message: enough slow ones in a row outlast a batch's time.
      slowEpisode: (ms) => graph.delayNext(ms, 8),
    },
  };
}

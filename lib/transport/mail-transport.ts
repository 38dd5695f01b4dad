/**
 * Chooses the door into Exchange Online from the configuration: SMTP AUTH (its connection kept
 * between batches), the High Volume Email preset of SMTP (its per-message limits checked before
 * sending), or Microsoft Graph `sendMail`. Delivery sees only what this returns, a
 * {@link MailSession} per batch and a classifier for failures that escape one, so
 * `process-batch` and `process-record` never know which door they drive.
 */
import type { SenderConfig } from '../config/sender-config.ts';
import type { ConnectionLease, MailSession, SendOutcome, TokenProvider } from '../types.ts';
import {
  classifyGraphFailure,
  graphClassificationToOutcome,
} from './graph/classify-graph-failure.ts';
import { GraphSession } from './graph/graph-session.ts';
import { HVE_LIMITS, withMessageLimits } from './message-limits.ts';
import { classificationToOutcome, classifySmtpFailure } from './smtp/classify-smtp-failure.ts';
import { KeptSmtpConnections, type SessionLogger } from './smtp/kept-smtp-connections.ts';
import { probeSmtp } from './smtp/probe-smtp.ts';
import { SmtpSession } from './smtp/smtp-session.ts';

export type { SessionLogger } from './smtp/kept-smtp-connections.ts';

/** The door as logs and `doctor` name it. */
export type Door = 'smtp' | 'hve' | 'graph';

export interface MailTransport {
  door: Door;
  /** The batch's session (its connection may be kept from an earlier batch). */
  openSession(): MailSession;
  /** Turns an error that escaped a session (opening it, a send that threw) into an outcome. */
  classifyFailure(err: unknown): SendOutcome;
  /** The longest single wait of one send: the socket timeout, or Graph's request timeout. */
  readonly sendTimeoutMs: number;
  /** The longest the first send of a batch may wait for a connection slot (SMTP's lease). */
  readonly sessionWaitMs: number;
  /** Ends what is kept between batches (QUIT a kept SMTP session). */
  close(): Promise<void>;
  /**
   * The circuit breaker's probe: sets up what a batch would (SMTP: token, connect, TLS, AUTH under
   * a lease, QUIT; Graph: a token) and sends nothing.
   */
  probe(): Promise<TransportProbeOutcome>;
}

/** What a probe found: the way out works, the configuration is broken, or not now. */
export type TransportProbeOutcome =
  | { kind: 'ok' }
  | { kind: 'config'; reason: string; fix: string }
  | { kind: 'retry'; reason: string };

export function createMailTransport(
  config: SenderConfig,
  tokenProvider: TokenProvider | undefined,
  options: {
    logger?: SessionLogger;
    /** Caps SMTP connections across sandboxes (`MAIL_MAX_CONNECTIONS`); Graph has no connections to cap. */
    lease?: ConnectionLease;
  } = {},
): MailTransport {
  if (config.transport === 'graph') return graphTransport(config, tokenProvider, options.logger);
  const connections = new KeptSmtpConnections(config, tokenProvider, {
    logger: options.logger,
    lease: options.lease,
  });
  const hve = config.smtp.endpoint === 'hve';
  return {
    door: hve ? 'hve' : 'smtp',
    openSession: () => {
      const session = new SmtpSession(connections, options.logger);
      return hve ? withMessageLimits(session, HVE_LIMITS) : session;
    },
    classifyFailure: (err) => classificationToOutcome(classifySmtpFailure(err)),
    sendTimeoutMs: config.smtp.socketTimeoutMs,
    sessionWaitMs: options.lease?.maxWaitMs ?? 0,
    close: () => connections.close(),
    probe: () => probeSmtp(config, tokenProvider, { lease: options.lease }),
  };
}

function graphTransport(
  config: SenderConfig,
  tokenProvider: TokenProvider | undefined,
  logger: SessionLogger | undefined,
): MailTransport {
  const settings = config.graph;
  if (!settings || !tokenProvider) {
    throw new TypeError('MAIL_TRANSPORT=graph needs the Graph settings and a token provider.');
  }
  return {
    door: 'graph',
    openSession: () => new GraphSession({ settings, sender: config.sender, tokenProvider, logger }),
    classifyFailure: (err) => graphClassificationToOutcome(classifyGraphFailure(err)),
    sendTimeoutMs: settings.timeoutMs,
    sessionWaitMs: 0,
    close: async () => undefined,
    async probe() {
      try {
        await tokenProvider.getAccessToken(true);
        return { kind: 'ok' };
      } catch (err) {
        const outcome = graphClassificationToOutcome(classifyGraphFailure(err));
        if (outcome.kind === 'config') {
          return { kind: 'config', reason: outcome.reason, fix: outcome.fix };
        }
        return { kind: 'retry', reason: 'reason' in outcome ? outcome.reason : String(err) };
      }
    },
  };
}

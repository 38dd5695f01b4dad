/**
 * Sets up one SMTP session exactly as a batch would — token, connect, TLS, AUTH, under a
 * connection lease when there is one — and QUITs it, sending nothing: the circuit breaker's probe.
 */
import type { SenderConfig } from '../../config/sender-config.ts';
import type { ConnectionLease, TokenProvider } from '../../types.ts';
import type { TransportProbeOutcome } from '../mail-transport.ts';
import { classificationToOutcome, classifySmtpFailure } from './classify-smtp-failure.ts';
import { KeptSmtpConnections, NoConnectionSlotError } from './kept-smtp-connections.ts';

export async function probeSmtp(
  config: SenderConfig,
  tokens: TokenProvider | undefined,
  options: { lease?: ConnectionLease } = {},
): Promise<TransportProbeOutcome> {
  const keeper = new KeptSmtpConnections(config, tokens, { keepAliveMs: 0, lease: options.lease });
  try {
    await keeper.giveBack(await keeper.borrow());
    return { kind: 'ok' };
  } catch (err) {
    if (err instanceof NoConnectionSlotError) return { kind: 'retry', reason: err.message };
    const outcome = classificationToOutcome(classifySmtpFailure(err));
    if (outcome.kind === 'config')
      return { kind: 'config', reason: outcome.reason, fix: outcome.fix };
    return { kind: 'retry', reason: 'reason' in outcome ? outcome.reason : String(err) };
  }
}

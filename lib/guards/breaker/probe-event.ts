/**
 * The input of the circuit breaker's scheduled probe: the EventBridge rule's target input (the
 * `MailSender` construct) and what the sender's handler recognises. No imports, so the CDK app can
 * use it without loading the sender.
 */
export const PROBE_EVENT = { o365MailQueue: 'probe' } as const;

export function isProbeEvent(event: unknown): event is typeof PROBE_EVENT {
  return (event as { o365MailQueue?: unknown } | null)?.o365MailQueue === PROBE_EVENT.o365MailQueue;
}

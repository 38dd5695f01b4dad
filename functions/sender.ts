/**
 * Lambda entry point: SQS event source mapping (with `ReportBatchItemFailures`) → a batch, and the
 * circuit breaker's scheduled probe (EventBridge, input {@link PROBE_EVENT}). Thin on purpose; all
 * decisions live in `lib/` (`lib/delivery/sender-lambda.ts`). The runtime (config, secrets, MSAL
 * token cache, clients, the SMTP session kept between batches) is built on the first invocation
 * and kept while the sandbox is warm.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  createSenderLambda,
  isProbeEvent,
  type PROBE_EVENT,
  type ProbeReport,
} from '../lib/delivery/sender-lambda.ts';

const sender = createSenderLambda(process.env);

export function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
export function handler(event: typeof PROBE_EVENT, context: Context): Promise<ProbeReport>;
export function handler(
  event: SQSEvent | typeof PROBE_EVENT,
  context: Context,
): Promise<SQSBatchResponse | ProbeReport> {
  return isProbeEvent(event) ? sender.probe() : sender.batch(event, context);
}

/**
 * QUITs the SMTP session this module keeps between invocations. For local runs and tests that
 * stop (an idle session never keeps the process alive, but a server waits for it); Lambda never
 * calls it.
 */
export function closeSenderSession(): Promise<void> {
  return sender.close();
}

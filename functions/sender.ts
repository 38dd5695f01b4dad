/**
 * Lambda entry point: SQS event source mapping (with `ReportBatchItemFailures`) → `processBatch`.
 * Thin on purpose; all decisions live in `lib/`. The runtime (config, secrets, MSAL token cache,
 * clients, the SMTP session kept between batches) is built on the first invocation and kept while
 * the sandbox is warm; a configuration that failed to load is not kept, so the next invocation tries
 * again (a Secrets Manager blip heals).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSenderRuntime, type SenderRuntime } from '../lib/delivery/sender-runtime.ts';

let runtime: Promise<SenderRuntime> | undefined;

async function getRuntime(): Promise<SenderRuntime> {
  runtime ??= createSenderRuntime(process.env);
  try {
    const current = await runtime;
    if (!current.ready) runtime = undefined;
    return current;
  } catch (err) {
    runtime = undefined;
    throw err;
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  // Same guard as Powertools' processPartialResponse: no Records means a wrong trigger, a bug.
  if (!Array.isArray(event?.Records)) {
    throw new TypeError('sender: the event has no Records array; is this an SQS event?');
  }
  const current = await getRuntime();
  const { batchItemFailures } = await current.processBatch(event.Records, context);
  return { batchItemFailures };
}

/**
 * QUITs the SMTP session this module keeps between invocations. For local runs and tests that
 * stop (an idle session never keeps the process alive, but a server waits for it); Lambda never
 * calls it.
 */
export async function closeSenderSession(): Promise<void> {
  const current = runtime;
  if (!current) return;
  await (await current.catch(() => undefined))?.close();
}

/**
 * Lambda entry point: SQS event source mapping (with `ReportBatchItemFailures`) → `processBatch`.
 * Thin on purpose; all decisions live in `lib/`. The runtime (config, secrets, MSAL token cache,
 * clients) is built on the first invocation and kept while the sandbox is warm; a configuration that
 * failed to load is not kept, so the next invocation tries again (a Secrets Manager blip heals).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSenderRuntime, type SenderRuntime } from '../lib/sender-runtime.ts';

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

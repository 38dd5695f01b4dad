/**
 * Variant (a): this project's Lambda handler, `functions/sender.ts`, driven the way the SQS event
 * source mapping drives it (lib/local/sqs-event-source.ts): batches of up to 10, `batchItemFailures`
 * honoured, successes deleted with one DeleteMessageBatch. One child process is one warm Lambda
 * instance (one invocation at a time, its own module scope and token cache); the bench starts as
 * many instances as the stack's `maxConcurrency`.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import {
  type BatchReport,
  createSqsEventSource,
  type SqsLambdaHandler,
} from '../../lib/local/sqs-event-source.ts';
import { handlerEnv } from './variant-handler-env.ts';
import {
  type ConsumeControl,
  type ConsumeResult,
  runVariantChild,
  type VariantInput,
} from './variant-protocol.ts';

async function prepare(
  input: VariantInput,
): Promise<(control: ConsumeControl) => Promise<ConsumeResult>> {
  Object.assign(process.env, handlerEnv(input));
  // Imported after the environment is set: what the module scope reads, it reads at import.
  const { handler } = await import('../../functions/sender.ts');
  // The handler builds its clients (configuration, MSAL client, SQS client) on its first
  // invocation; an empty batch does that now, before the clock starts, as the peers build theirs
  // before it. It opens no SMTP session and asks for no token: those stay inside the measurement.
  // What a real cold start costs is the cold-start table's job.
  await handler({ Records: [] }, idleContext);
  const sqs = new SQSClient({ endpoint: input.sqsEndpoint, region: input.region });

  // Lambda bills each invocation's duration rounded up to the millisecond.
  let billedMs = 0;
  const timed: SqsLambdaHandler = async (event, context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      billedMs += Math.ceil(performance.now() - started);
    }
  };

  return ({ stop, progress }) =>
    new Promise<ConsumeResult>((resolve, reject) => {
      let sent = 0;
      let batches = 0;
      let failure: Error | undefined;
      const onBatch = (report: BatchReport) => {
        batches += 1;
        sent += report.deleted.length;
        progress(report.deleted.length);
        // Every bench message is valid and the emulator refuses none: any failure is a breakage.
        if ((report.error || report.failed.length > 0) && !failure) {
          const why = report.error ?? JSON.stringify(report.response?.batchItemFailures);
          failure = new Error(`handler failed ${report.failed.length} records: ${String(why)}`);
          void source.stop().then(() => reject(failure));
        }
      };
      const source = createSqsEventSource({
        sqs,
        queueUrl: input.queueUrl,
        handler: timed,
        batchSize: input.batch,
        waitTimeSeconds: 1,
        // One invocation at a time per instance, as in Lambda.
        concurrency: 1,
        region: input.region,
        functionTimeoutMs: 60_000,
        onBatch,
      });
      stop.addEventListener('abort', () => {
        void source.stop().then(() => {
          sqs.destroy();
          if (!failure) resolve({ sent, batches, billedMs });
        });
      });
      source.start();
    });
}

const idleContext = { getRemainingTimeInMillis: () => 60_000 } as Context;

await runVariantChild(prepare);

/**
 * The sender's SQS client, created on its first request. The sender calls SQS only on failure
 * paths (delaying a retry, moving a message to the dead-letter queue): a batch that all went out
 * never does, because the event source mapping deletes what succeeded. In Lambda `@aws-sdk/*`
 * comes from the runtime (infra/sender-bundling.ts), so loading the client here rather than at
 * start keeps it out of every cold start (measured: about 20 ms of CPU).
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

/** What the sender uses of an SQS client: `send`. A real `SQSClient` fits too (tests pass one). */
export type SqsSender = Pick<SQSClient, 'send'>;

/** An {@link SqsSender} that loads `@aws-sdk/client-sqs` and builds the client on the first `send`. */
export function lazySqsClient(config: SQSClientConfig): SqsSender {
  let client: Promise<SQSClient> | undefined;
  const send = async (command: Parameters<SQSClient['send']>[0]) => {
    client ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) => new SQSClient(config));
    return (await client).send(command);
  };
  // `send` is overloaded (callback and promise forms); the sender only uses the promise form.
  return { send: send as SQSClient['send'] };
}

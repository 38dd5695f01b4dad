/**
 * Schedules the next attempt of failed records by changing their visibility timeout: the SQS-native
 * way to delay a redelivery without a second queue or a sleeping Lambda.
 */
import type { SqsSender } from './lazy-sqs-client.ts';

/**
 * The queue URL of a record when `MAIL_QUEUE_URL` is not set, built from its event source ARN
 * (`arn:aws:sqs:<region>:<account>:<name>`): on the SQS endpoint override when there is one
 * (`AWS_ENDPOINT_URL_SQS`: local emulators, path-style), else
 * `https://sqs.<region>.amazonaws.com/<account>/<name>`. Partitions whose DNS suffix the ARN does
 * not give away need `MAIL_QUEUE_URL`.
 */
export function queueUrlFromArn(arn: string, endpoint?: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') return undefined;
  const [, partition, , region, account, name] = parts;
  if (endpoint) return `${endpoint.replace(/\/+$/, '')}/${account}/${name}`;
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${suffix}/${account}/${name}`;
}

export interface VisibilityChange {
  receiptHandle: string;
  delaySeconds: number;
}

/**
 * Applies the delays, ten per call (the SQS batch limit). Best effort by design: if SQS refuses,
 * the record still reappears after the queue's own visibility timeout, so nothing is lost; the
 * returned errors are for the log.
 */
export async function scheduleRetries(
  sqs: SqsSender,
  queueUrl: string,
  changes: readonly VisibilityChange[],
): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 0; i < changes.length; i += 10) {
    const chunk = changes.slice(i, i + 10);
    try {
      // Loaded here, not at start: see lib/delivery/lazy-sqs-client.ts.
      const { ChangeMessageVisibilityBatchCommand } = await import('@aws-sdk/client-sqs');
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((change, j) => ({
            Id: String(i + j),
            ReceiptHandle: change.receiptHandle,
            VisibilityTimeout: change.delaySeconds,
          })),
        }),
      );
      for (const failed of result.Failed ?? []) errors.push(`${failed.Code}: ${failed.Message}`);
    } catch (err) {
      errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
  }
  return errors;
}

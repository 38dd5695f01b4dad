import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { sqsMessageBytes } from '../message/sqs-message-size.ts';
import { chunkForBatch } from '../producer/batch-chunks.ts';
import { visibleCount } from './dead-letters.ts';

/** Options of {@link redriveDeadLetters}. */
export interface RedriveOptions {
  client: SQSClient;
  dlqUrl: string;
  /** Where the messages go back to; required for the receive→send→delete fallback. */
  queueUrl?: string;
  /** Called as messages move: `moved` so far of `total` (an estimate when SQS runs the move). */
  onProgress?: (moved: number, total: number) => void;
  /** How often a move task's progress is read. @default 1000 */
  pollIntervalMs?: number;
}

/** What a redrive did. `failed` messages stay in the DLQ (nothing is deleted before it was re-sent). */
export interface RedriveResult {
  /** `none` when the DLQ was empty. */
  method: 'message-move-task' | 'receive-send-delete' | 'none';
  moved: number;
  failed: number;
  /** Why the move task failed, or why messages could not be re-sent. */
  failureReason?: string;
}

/** Error names SQS emulators give for an API they lack (fauxqs: `InvalidAction`). */
const UNSUPPORTED = new Set([
  'InvalidAction',
  'UnsupportedOperation',
  'UnknownOperationException',
  'AWS.SimpleQueueService.UnsupportedOperation',
]);

/**
 * Moves every message in the DLQ back to its source queue. Uses an SQS message-move task where
 * the service has one (AWS: server-side, keeps attributes, survives this process ending); falls
 * back to receive → send → delete elsewhere (fauxqs has no move tasks), in batches within SQS's
 * 10 entries and 1 MiB per request, deleting a message only after its copy was accepted, so a
 * crash can duplicate a message but never lose one.
 */
export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveResult> {
  const total = await visibleCount(options.client, options.dlqUrl);
  if (total === 0) return { method: 'none', moved: 0, failed: 0 };
  const task = await startMoveTask(options);
  if (task.kind === 'started') return followMoveTask(options, task.sourceArn, total);
  if (!options.queueUrl) {
    throw new Error(
      'This SQS endpoint has no message-move tasks, and the source queue is unknown: pass --queue-url.',
    );
  }
  return receiveSendDelete(options, options.queueUrl, total);
}

async function startMoveTask(
  options: RedriveOptions,
): Promise<{ kind: 'started'; sourceArn: string } | { kind: 'unsupported' }> {
  const sourceArn = await queueArn(options.client, options.dlqUrl);
  const destinationArn = options.queueUrl
    ? await queueArn(options.client, options.queueUrl)
    : undefined;
  try {
    await options.client.send(
      new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
    );
    return { kind: 'started', sourceArn };
  } catch (error) {
    if (UNSUPPORTED.has((error as Error).name)) return { kind: 'unsupported' };
    throw error;
  }
}

async function followMoveTask(
  options: RedriveOptions,
  sourceArn: string,
  total: number,
): Promise<RedriveResult> {
  for (;;) {
    const { Results = [] } = await options.client.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
    );
    const task = Results[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    options.onProgress?.(moved, task?.ApproximateNumberOfMessagesToMove ?? total);
    if (task && task.Status !== 'RUNNING' && task.Status !== 'CANCELLING') {
      const left = Math.max(0, (task.ApproximateNumberOfMessagesToMove ?? total) - moved);
      return {
        method: 'message-move-task',
        moved,
        failed: task.Status === 'COMPLETED' ? 0 : left,
        failureReason:
          task.FailureReason ?? (task.Status === 'COMPLETED' ? undefined : task.Status),
      };
    }
    // SQS reports a move task's progress only when asked; there is no event to wait for.
    await sleep(options.pollIntervalMs ?? 1000);
  }
}

/**
 * The fallback: at most `total` messages (the DLQ's depth when the redrive started), so a
 * message that fails again and comes back to the DLQ meanwhile is not moved in a loop.
 */
async function receiveSendDelete(
  options: RedriveOptions,
  queueUrl: string,
  total: number,
): Promise<RedriveResult> {
  const { client, dlqUrl } = options;
  const fifo = queueUrl.endsWith('.fifo');
  let moved = 0;
  let failed = 0;
  let failureReason: string | undefined;
  let empty = 0;
  while (moved + failed < total && empty < 2) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, total - moved - failed),
        VisibilityTimeout: 60,
        WaitTimeSeconds: empty > 0 ? 1 : 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    empty = Messages.length === 0 ? empty + 1 : 0;
    if (Messages.length === 0) continue;
    // SQS caps a batch request at 1 MiB of bodies and attributes, not only at 10 entries.
    const entries = Messages.map((message, i) => {
      const entry = copyEntry(message, String(i), fifo);
      return {
        message,
        entry,
        bytes: sqsMessageBytes(entry.MessageBody ?? '', entry.MessageAttributes),
      };
    });
    for (const chunk of chunkForBatch(entries)) {
      const result = await sendAndDelete(client, queueUrl, dlqUrl, chunk);
      moved += result.moved;
      failed += chunk.length - result.moved;
      failureReason = result.failureReason ?? failureReason;
      options.onProgress?.(moved, total);
    }
  }
  return { method: 'receive-send-delete', moved, failed, failureReason };
}

/** Sends one batch of copies; deletes from the DLQ exactly those SQS accepted. */
async function sendAndDelete(
  client: SQSClient,
  queueUrl: string,
  dlqUrl: string,
  chunk: readonly { message: Message; entry: SendMessageBatchRequestEntry }[],
): Promise<{ moved: number; failureReason?: string }> {
  let sent: SendMessageBatchCommandOutput;
  try {
    sent = await client.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((c) => c.entry) }),
    );
  } catch (error) {
    // Nothing of this batch was copied: it stays in the DLQ, and the next batch may still go.
    return { moved: 0, failureReason: error instanceof Error ? error.message : String(error) };
  }
  const accepted = new Set((sent.Successful ?? []).map((s) => s.Id));
  const failed = sent.Failed?.[0];
  const toDelete = chunk.filter((c) => accepted.has(c.entry.Id));
  if (toDelete.length > 0) {
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: toDelete.map((c, i) => ({
          Id: String(i),
          ReceiptHandle: c.message.ReceiptHandle!,
        })),
      }),
    );
  }
  return {
    moved: toDelete.length,
    ...(failed && { failureReason: failed.Message ?? failed.Code }),
  };
}

/** The same body and message attributes, as a move task keeps them. */
function copyEntry(message: Message, id: string, fifo: boolean): SendMessageBatchRequestEntry {
  const attributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      { DataType: value.DataType, StringValue: value.StringValue, BinaryValue: value.BinaryValue },
    ]),
  );
  return {
    Id: id,
    MessageBody: message.Body ?? '',
    MessageAttributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    ...(fifo
      ? {
          MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
          // A fresh id: reusing the original one inside the 5-minute window would drop the copy.
          MessageDeduplicationId: message.MessageId,
        }
      : {}),
  };
}

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (!Attributes?.QueueArn) throw new Error(`No ARN for queue ${queueUrl}`);
  return Attributes.QueueArn;
}

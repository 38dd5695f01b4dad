import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redriveDeadLetters } from '../../lib/cli/redrive-dead-letters.ts';

// The move-task path runs only on AWS (fauxqs has none), so the SDK calls are mocked here;
// the receive→send→delete fallback is tested against fauxqs in dlq.test.ts.
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail';
const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:mail-dlq';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:mail';

const sqs = mockClient(SQSClient);

beforeEach(() => {
  sqs.reset();
  sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({
    Attributes: { ApproximateNumberOfMessages: '3', QueueArn: DLQ_ARN },
  });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE_URL }).resolves({
    Attributes: { QueueArn: QUEUE_ARN },
  });
  sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
});

describe('redriveDeadLetters on AWS', () => {
  it('starts a message-move task from the DLQ to the mail queue and follows it to the end', async () => {
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [
          {
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 1,
            ApproximateNumberOfMessagesToMove: 3,
          },
        ],
      })
      .resolves({
        Results: [
          {
            Status: 'COMPLETED',
            ApproximateNumberOfMessagesMoved: 3,
            ApproximateNumberOfMessagesToMove: 3,
          },
        ],
      });
    const progress: number[] = [];

    const result = await redriveDeadLetters({
      client: new SQSClient({}),
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      pollIntervalMs: 0,
      onProgress: (moved) => progress.push(moved),
    });

    expect(result).toEqual({ method: 'message-move-task', moved: 3, failed: 0 });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({
      SourceArn: DLQ_ARN,
      DestinationArn: QUEUE_ARN,
    });
    expect(progress).toEqual([1, 3]);
    // Nothing received or deleted by the client: SQS moves the messages itself.
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('reports what a failed move task left behind, with its reason', async () => {
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          Status: 'FAILED',
          ApproximateNumberOfMessagesMoved: 1,
          ApproximateNumberOfMessagesToMove: 3,
          FailureReason: 'AWS.SimpleQueueService.KmsAccessDenied',
        },
      ],
    });

    const result = await redriveDeadLetters({
      client: new SQSClient({}),
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      pollIntervalMs: 0,
    });

    expect(result).toEqual({
      method: 'message-move-task',
      moved: 1,
      failed: 2,
      failureReason: 'AWS.SimpleQueueService.KmsAccessDenied',
    });
  });
});

import { PassThrough } from 'node:stream';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createOutput } from '../../lib/cli/output.ts';
import { stats } from '../../lib/cli/run-stats.ts';

// On AWS the oldest message's age is a CloudWatch metric; no emulator has it, so the SDK calls
// are mocked here (the local path is tested against fauxqs in stats.test.ts).
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq';

const sqs = mockClient(SQSClient);
const cloudWatch = mockClient(CloudWatchClient);

async function run(): Promise<
  Record<string, { oldestAgeSeconds: number | null; ageSource: string }>
> {
  const stdout = new PassThrough();
  const out = createOutput(true, { stdout, stderr: new PassThrough(), env: {} });
  const target = {
    source: 'flags' as const,
    queueUrl: QUEUE,
    dlqUrl: DLQ,
    region: 'eu-west-1',
    local: false,
    client: new SQSClient({}),
  };
  await stats(target, out);
  return JSON.parse(String(stdout.read()));
}

beforeEach(() => {
  sqs.reset();
  cloudWatch.reset();
  sqs.on(GetQueueAttributesCommand, { QueueUrl: QUEUE }).resolves({
    Attributes: {
      ApproximateNumberOfMessages: '12',
      ApproximateNumberOfMessagesNotVisible: '3',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ }).resolves({
    Attributes: {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  });
});

describe('o365-mail stats on AWS', () => {
  it('takes the oldest age from the latest ApproximateAgeOfOldestMessage datapoint of the queue', async () => {
    cloudWatch.on(GetMetricStatisticsCommand).resolves({
      Datapoints: [
        { Timestamp: new Date(Date.now() - 120_000), Maximum: 400 },
        { Timestamp: new Date(Date.now() - 60_000), Maximum: 460 },
      ],
    });

    const doc = await run();

    expect(doc.queue).toMatchObject({
      oldestAgeSeconds: 460,
      ageSource: 'cloudwatch',
      visible: 12,
      inFlight: 3,
    });
    expect(doc.dlq).toMatchObject({ oldestAgeSeconds: null, ageSource: 'empty' });
    const input = cloudWatch.commandCalls(GetMetricStatisticsCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 'mail' }],
    });
  });

  it('shows the age as unknown, not an error, without CloudWatch permission', async () => {
    cloudWatch
      .on(GetMetricStatisticsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));

    const doc = await run();

    expect(doc.queue).toMatchObject({
      oldestAgeSeconds: null,
      ageSource: 'unavailable',
      visible: 12,
    });
  });
});

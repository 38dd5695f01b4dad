import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveQueueTarget } from '../../lib/cli/queue-target.ts';

const AWS_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail';
const AWS_DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq';
const LOCAL_QUEUE = 'http://127.0.0.1:4566/000000000000/o365-mail';
const LOCAL_DLQ = 'http://127.0.0.1:4566/000000000000/o365-mail-dlq';

function stateFile(pid: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'o365-state-')), 'pipeline.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      pid,
      startedAt: new Date().toISOString(),
      sqsEndpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      queueUrl: LOCAL_QUEUE,
      dlqUrl: LOCAL_DLQ,
      smtp: { kind: 'capture', host: '127.0.0.1', port: 2525, outboxDir: 'outbox' },
    }),
  );
  return file;
}

const cfn = mockClient(CloudFormationClient);
afterEach(() => cfn.reset());

async function resolved(flags: Parameters<typeof resolveQueueTarget>[0], env: NodeJS.ProcessEnv) {
  const result = await resolveQueueTarget(flags, env);
  if (!result.ok) return result;
  result.target.client.destroy();
  const { source, queueUrl, dlqUrl, region, local } = result.target;
  return { source, queueUrl, dlqUrl, region, local };
}

describe('which queues the command line talks to', () => {
  it('prefers flags, then the environment, then the running local pipeline', async () => {
    const running = stateFile(process.pid);
    const env = { O365_LOCAL_STATE_FILE: running, MAIL_QUEUE_URL: AWS_QUEUE };

    expect(await resolved({ queueUrl: LOCAL_QUEUE }, env)).toMatchObject({
      source: 'flags',
      queueUrl: LOCAL_QUEUE,
      local: true,
    });
    expect(await resolved({}, env)).toEqual({
      source: 'environment',
      queueUrl: AWS_QUEUE,
      dlqUrl: undefined,
      region: 'eu-west-1',
      local: false,
    });
    expect(await resolved({}, { O365_LOCAL_STATE_FILE: running })).toMatchObject({
      source: 'local pipeline',
      queueUrl: LOCAL_QUEUE,
      dlqUrl: LOCAL_DLQ,
      local: true,
    });
  });

  it('treats emulator hosts as local (no AWS credentials needed)', async () => {
    for (const queueUrl of [LOCAL_QUEUE, 'http://sqs.us-east-1.localhost:4566/000000000000/mail']) {
      expect(await resolved({ queueUrl }, {})).toMatchObject({ local: true });
    }
    expect(await resolved({ queueUrl: AWS_QUEUE }, {})).toMatchObject({ local: false });
  });

  it('ignores the state file of a pipeline that is no longer running', async () => {
    // A pid far above any real one: the process does not exist.
    const stale = stateFile(2 ** 22 + 12345);

    const result = await resolveQueueTarget({}, { O365_LOCAL_STATE_FILE: stale });

    expect(result).toMatchObject({
      ok: false,
      problem: expect.stringContaining('No queue to talk to'),
    });
  });

  it('reads the queue URLs from the stack outputs with --stack', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'MailQueue' }).resolves({
      Stacks: [
        {
          StackName: 'MailQueue',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'QueueArn', OutputValue: 'arn:aws:sqs:eu-west-1:123456789012:mail' },
            { OutputKey: 'QueueUrl', OutputValue: AWS_QUEUE },
            { OutputKey: 'DeadLetterQueueUrl', OutputValue: AWS_DLQ },
          ],
        },
      ],
    });

    expect(await resolved({ stack: 'MailQueue', region: 'eu-west-1' }, {})).toEqual({
      source: 'stack',
      queueUrl: AWS_QUEUE,
      dlqUrl: AWS_DLQ,
      region: 'eu-west-1',
      local: false,
    });
  });

  it('explains a stack that cannot be read', async () => {
    cfn.on(DescribeStacksCommand).rejects(new Error('Stack with id Nope does not exist'));

    const result = await resolveQueueTarget({ stack: 'Nope', region: 'eu-west-1' }, {});

    expect(result).toEqual({
      ok: false,
      problem: 'Could not read stack Nope: Stack with id Nope does not exist',
    });
  });
});

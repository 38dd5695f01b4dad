import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { onLoopbackOnly } from '../../lib/local/loopback-only.ts';

/** A running fauxqs SQS emulator on 127.0.0.1 with a client pointed at it. */
export interface SqsEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  client: SQSClient;
  /**
   * Creates a queue and returns its path-style URL (`http://127.0.0.1:<port>/<account>/<name>`),
   * which resolves everywhere (fauxqs' own `sqs.<region>.localhost` host need not).
   */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /** Creates `name` and `name-dlq` with a redrive policy; returns both URLs and the DLQ ARN. */
  createQueueWithDlq(
    name: string,
    options?: { maxReceiveCount?: number; fifo?: boolean; attributes?: Record<string, string> },
  ): Promise<{ queueUrl: string; dlqUrl: string; dlqArn: string; queueArn: string }>;
  stop(): Promise<void>;
}

const ACCOUNT = '000000000000';

/** Starts fauxqs in this process on a free port. */
export async function startSqsEmulator(region = 'us-east-1'): Promise<SqsEmulator> {
  const server = await onLoopbackOnly(() =>
    startFauxqs({ port: 0, logger: false, defaultRegion: region }),
  );
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new SQSClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

  const pathStyleUrl = (name: string) => `${endpoint}/${ACCOUNT}/${name}`;
  const arnOf = (name: string) => `arn:aws:sqs:${region}:${ACCOUNT}:${name}`;

  async function createQueue(name: string, attributes?: Record<string, string>): Promise<string> {
    await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return pathStyleUrl(name);
  }

  return {
    endpoint,
    region,
    client,
    createQueue,
    async createQueueWithDlq(name, options = {}) {
      const fifo = options.fifo ?? name.endsWith('.fifo');
      const base = name.replace(/\.fifo$/, '');
      const dlqName = fifo ? `${base}-dlq.fifo` : `${base}-dlq`;
      const queueName = fifo ? `${base}.fifo` : base;
      const fifoAttrs: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
      const dlqUrl = await createQueue(dlqName, fifoAttrs);
      const queueUrl = await createQueue(queueName, {
        ...fifoAttrs,
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: arnOf(dlqName),
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
        ...options.attributes,
      });
      return { queueUrl, dlqUrl, dlqArn: arnOf(dlqName), queueArn: arnOf(queueName) };
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

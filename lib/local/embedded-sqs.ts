import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import {
  LOCAL_CREDENTIALS,
  LOCAL_DLQ_NAME,
  LOCAL_MAX_RECEIVE_COUNT,
  LOCAL_QUEUE_NAME,
  LOCAL_REGION,
  LOCAL_VISIBILITY_TIMEOUT_SECONDS,
  localQueueArn,
  localQueueUrl,
} from './local-defaults.ts';
import { onLoopbackOnly } from './loopback-only.ts';

/** The embedded SQS emulator with the mail queue and its DLQ. */
export interface EmbeddedSqs {
  server: FauxqsServer;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  client: SQSClient;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process on 127.0.0.1 and creates the mail queue and the DLQ with the
 * stack's redrive settings. In memory: a restart starts empty.
 * @param port 0 picks a free port.
 */
export async function startEmbeddedSqs(port: number): Promise<EmbeddedSqs> {
  let server: FauxqsServer;
  try {
    server = await onLoopbackOnly(() =>
      startFauxqs({
        port,
        host: '127.0.0.1',
        logger: false,
        defaultRegion: LOCAL_REGION,
        // The spy lets the pipeline see messages the queue itself dead-letters (maxReceiveCount).
        messageSpies: { bufferSize: 2000 },
      }),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `Port ${port} is in use: is \`npm start\` already running? Stop it, or set O365_LOCAL_SQS_PORT to another port.`,
        { cause: error },
      );
    }
    throw error;
  }
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await client.send(new CreateQueueCommand({ QueueName: LOCAL_DLQ_NAME }));
  await client.send(
    new CreateQueueCommand({
      QueueName: LOCAL_QUEUE_NAME,
      Attributes: {
        VisibilityTimeout: String(LOCAL_VISIBILITY_TIMEOUT_SECONDS),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: localQueueArn(LOCAL_DLQ_NAME),
          maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  return {
    server,
    endpoint,
    queueUrl: localQueueUrl(endpoint, LOCAL_QUEUE_NAME),
    dlqUrl: localQueueUrl(endpoint, LOCAL_DLQ_NAME),
    client,
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

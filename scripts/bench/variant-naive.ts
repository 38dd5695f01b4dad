/**
 * Variant (b): the consumer people write in an afternoon. For every message a new MSAL client and
 * token request and a new (unpooled) nodemailer transport, so every message pays a TCP connect,
 * STARTTLS, AUTH and a token round trip; messages are received in batches and deleted one by one.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ConfidentialClientApplication } from '@azure/msal-node';
import nodemailer from 'nodemailer';
import { msalConfiguration, toPeerMail } from './msal-config.ts';
import {
  type ConsumeControl,
  type ConsumeResult,
  runVariantChild,
  type VariantInput,
} from './variant-protocol.ts';

async function prepare(
  input: VariantInput,
): Promise<(control: ConsumeControl) => Promise<ConsumeResult>> {
  const sqs = new SQSClient({ endpoint: input.sqsEndpoint, region: input.region });
  const receive = async (stop: AbortSignal) => {
    try {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: input.queueUrl,
          MaxNumberOfMessages: input.batch,
          WaitTimeSeconds: 1,
        }),
        { abortSignal: stop },
      );
      return Messages;
    } catch (error) {
      if (stop.aborted) return [];
      throw error;
    }
  };

  return async ({ stop, progress }) => {
    let sent = 0;
    let batches = 0;
    while (!stop.aborted) {
      const messages = await receive(stop);
      if (messages.length > 0) batches += 1;
      for (const message of messages) {
        const msal = new ConfidentialClientApplication(msalConfiguration(input.oauth));
        const token = await msal.acquireTokenByClientCredential({ scopes: [input.oauth.scope] });
        if (!token) throw new Error('MSAL returned no token');
        const transport = nodemailer.createTransport({
          host: input.smtp.host,
          port: input.smtp.port,
          secure: false,
          requireTLS: true,
          auth: { type: 'OAuth2', user: input.mailbox, accessToken: token.accessToken },
        });
        await transport.sendMail(toPeerMail(message.Body));
        transport.close();
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: input.queueUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
        sent += 1;
        progress(1);
      }
    }
    sqs.destroy();
    return { sent, batches };
  };
}

await runVariantChild(prepare);

/**
 * Variant (b): the consumer people write in an afternoon. For every message a new MSAL client and
 * token request and a new (unpooled) nodemailer transport, so every message pays a TCP connect,
 * STARTTLS, AUTH and a token round trip; messages are received in batches and deleted one by one.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ConfidentialClientApplication } from '@azure/msal-node';
import nodemailer from 'nodemailer';
import { msalConfiguration, toPeerMail } from './msal-config.ts';
import { type ConsumeResult, runVariantChild, type VariantInput } from './variant-protocol.ts';

async function prepare(input: VariantInput): Promise<() => Promise<ConsumeResult>> {
  const sqs = new SQSClient({ endpoint: input.sqsEndpoint, region: input.region });
  return async () => {
    let sent = 0;
    let batches = 0;
    while (sent < input.messages) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: input.queueUrl,
          MaxNumberOfMessages: input.batch,
          WaitTimeSeconds: 1,
        }),
      );
      if (Messages.length > 0) batches += 1;
      for (const message of Messages) {
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
      }
    }
    sqs.destroy();
    return { sent, batches };
  };
}

await runVariantChild(prepare);

/**
 * Variant (c): the careful peer. bbc/sqs-consumer polls in batches and deletes with one
 * DeleteMessageBatch; a pooled nodemailer transport keeps authenticated sessions open across
 * batches; MSAL's in-memory cache serves the token until it nears expiry (nodemailer asks through
 * its OAuth2 provisioning hook, so a refused token is renewed once).
 */
import type { Message } from '@aws-sdk/client-sqs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfidentialClientApplication } from '@azure/msal-node';
import nodemailer from 'nodemailer';
import { Consumer } from 'sqs-consumer';
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
  const msal = new ConfidentialClientApplication(msalConfiguration(input.oauth));
  const transport = nodemailer.createTransport({
    pool: true,
    // As many sessions as (a) runs invocations; Office 365 allows about 3 per mailbox, nodemailer's
    // default of 5 draws `432 4.3.2` there (office365-smtp.md §4, §6).
    maxConnections: input.concurrency,
    maxMessages: 100,
    host: input.smtp.host,
    port: input.smtp.port,
    secure: false,
    requireTLS: true,
    auth: { type: 'OAuth2', user: input.mailbox },
  });
  transport.set('oauth2_provision_cb', (_user, renew, callback) => {
    msal
      .acquireTokenByClientCredential({ scopes: [input.oauth.scope], skipCache: renew })
      .then((token) => {
        if (!token) throw new Error('MSAL returned no token');
        callback(null, token.accessToken, token.expiresOn?.getTime());
      })
      .catch((error: Error) => callback(error));
  });
  const sqs = new SQSClient({ endpoint: input.sqsEndpoint, region: input.region });

  return ({ stop, progress }) =>
    new Promise<ConsumeResult>((resolve, reject) => {
      let sent = 0;
      let batches = 0;
      // What the batch handler would bill as a Lambda function (each batch rounded up to the ms).
      let billedMs = 0;
      const consumer = Consumer.create({
        queueUrl: input.queueUrl,
        sqs,
        batchSize: input.batch,
        waitTimeSeconds: 1,
        handleMessageBatch: async (messages: Message[]) => {
          batches += 1;
          const started = performance.now();
          const results = await Promise.allSettled(
            messages.map((message) => transport.sendMail(toPeerMail(message.Body))),
          );
          billedMs += Math.ceil(performance.now() - started);
          const failed = results.find((r) => r.status === 'rejected');
          // Every bench message is valid: a refused one is a breakage, not a statistic.
          if (failed) reject(failed.reason);
          return messages.filter((_, index) => results[index]?.status === 'fulfilled');
        },
      });
      consumer.on('message_processed', () => {
        sent += 1;
        progress(1);
      });
      consumer.on('processing_error', (error) => reject(error));
      consumer.on('error', (error) => {
        if (!stop.aborted) reject(error);
      });
      stop.addEventListener('abort', () => {
        consumer.stop({ abort: true });
        transport.close();
        sqs.destroy();
        resolve({ sent, batches, billedMs });
      });
      consumer.start();
    });
}

await runVariantChild(prepare);

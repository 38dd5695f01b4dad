import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MailSender } from '../../infra/mail-sender.ts';
import { MailSenderPropsError } from '../../infra/validate-mail-sender-props.ts';
import { newStack, senderProps, withoutAwsCredentials } from './infra-fixtures.ts';

describe('MailSender refuses invalid props', () => {
  beforeAll(() => withoutAwsCredentials());

  it.each([
    [
      'a visibility timeout under 6 x the function timeout',
      { visibilityTimeout: Duration.seconds(359) },
      /visibilityTimeout \(359 s\) must be at least 6 x the function timeout \(360 s\)/,
    ],
    ['a sender that is not an address', { sender: 'mail' }, /sender must be a mailbox address/],
    [
      'oauth2 without tenant and client',
      { tenantId: undefined, clientId: undefined },
      /tenantId is required[\s\S]*clientId is required/,
    ],
    [
      'a client id that is not a GUID',
      { clientId: 'my-app' },
      /clientId must be the application \(client\) GUID/,
    ],
    [
      'a partial secret ARN',
      { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:o365/mail' },
      /secretArn must be a complete/,
    ],
    ['a batch bigger than 10', { batchSize: 11 }, /batchSize must be an integer from 1 to 10/],
    [
      'a code source that does not exist',
      { senderCode: 'docker' as never },
      /senderCode must be one of prebuilt, source, got 'docker'/,
    ],
    [
      'a concurrency SQS does not allow',
      { maxConcurrency: 1 },
      /maxConcurrency must be an integer from 2 to 1000/,
    ],
    [
      'a batching window on a FIFO queue',
      { fifo: true, maxBatchingWindow: Duration.seconds(5) },
      /maxBatchingWindow is not supported with fifo/,
    ],
    [
      'an SMTP keep-alive past an hour',
      { smtpKeepAlive: Duration.hours(2) },
      /smtpKeepAlive must be an integer from 0 to 3600 seconds, got 7200/,
    ],
    [
      'an SMTP keep-alive in fractions of a second',
      { smtpKeepAlive: Duration.millis(1500) },
      /smtpKeepAlive must be an integer from 0 to 3600 seconds, got 1.5/,
    ],
    [
      'the keep-alive through environment instead of its prop',
      { environment: { SMTP_KEEPALIVE_SECONDS: '30' } },
      /environment.SMTP_KEEPALIVE_SECONDS is set by the construct: use its prop instead/,
    ],
    [
      'a secret in the environment',
      { environment: { O365_CLIENT_SECRET: 'x' } },
      /environment.O365_CLIENT_SECRET is a secret/,
    ],
    [
      'an unknown transport',
      { transport: 'ews' as never },
      /transport must be one of smtp, graph, got 'ews'/,
    ],
    [
      'HVE over Graph',
      { transport: 'graph' as const, endpoint: 'hve' as const },
      /endpoint 'hve' is an SMTP endpoint: remove it, or use transport 'smtp'/,
    ],
    [
      'password auth over Graph',
      { transport: 'graph' as const, smtpAuth: 'password' as const },
      /smtpAuth 'password' does not fit transport 'graph'/,
    ],
    [
      'SMTP tuning over Graph',
      { transport: 'graph' as const, smtpHost: 'smtp.office365.com' },
      /smtpHost is not used with transport 'graph': remove it/,
    ],
    [
      'Graph settings over SMTP',
      { saveToSentItems: false, graphEndpoint: 'https://graph.microsoft.us' },
      /graphEndpoint is only used with transport 'graph'[\s\S]*saveToSentItems is only used with transport 'graph'/,
    ],
    [
      'a Graph endpoint that is not an https origin',
      { transport: 'graph' as const, graphEndpoint: 'graph.microsoft.us/v1.0' },
      /graphEndpoint must be an https:\/\/ origin/,
    ],
    [
      'an unknown large-message mode',
      { transport: 'graph' as const, graphLargeMessages: 'split' as never },
      /graphLargeMessages must be one of reject, upload, got 'split'/,
    ],
    [
      'HVE without authentication',
      { endpoint: 'hve' as const, smtpAuth: 'none' as const },
      /smtpAuth 'none' does not fit endpoint 'hve'/,
    ],
    [
      'the transport through environment instead of its prop',
      { environment: { MAIL_TRANSPORT: 'graph' } },
      /environment.MAIL_TRANSPORT is set by the construct: use its prop instead/,
    ],
    [
      'an allowedFrom entry that is neither address nor domain',
      { allowedFrom: ['contoso.com'] },
      /allowedFrom entries must be addresses or @domain/,
    ],
  ])('%s', (_name, overrides, message) => {
    expect(() => new MailSender(newStack(), 'MailSender', senderProps(overrides))).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      new MailSender(
        newStack(),
        'MailSender',
        senderProps({ sender: 'x', batchSize: 0, maxReceiveCount: 0 }),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MailSenderPropsError);
      expect((error as MailSenderPropsError).problems).toHaveLength(3);
    }
  });

  it('accepts a visibility timeout of exactly 6 x the function timeout', () => {
    expect(
      () =>
        new MailSender(
          newStack(),
          'MailSender',
          senderProps({ visibilityTimeout: Duration.seconds(360) }),
        ),
    ).not.toThrow();
  });
});

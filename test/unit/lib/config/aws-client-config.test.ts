import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../../../lib/config/aws-client-config.ts';
import { queueUrlFromArn } from '../../../../lib/delivery/retry-visibility.ts';

describe('awsClientConfig', () => {
  const awsQueue = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail';

  it('adds nothing in Lambda, where region and credentials come from the runtime', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' };
    expect(awsClientConfig(env, [awsQueue])).toEqual({});
  });

  it('never invents credentials for a real AWS endpoint', () => {
    expect(awsClientConfig({}, [awsQueue])).toEqual({ region: 'eu-west-1' });
  });

  it('uses placeholders only for a loopback emulator, and keeps real ones when given', () => {
    const local = 'http://127.0.0.1:4566/000000000000/mail';
    expect(awsClientConfig({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566' }, [local])).toEqual({
      sqsEndpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local-emulator', secretAccessKey: 'local-emulator' },
    });
    expect(awsClientConfig({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x' }, [local])).toEqual(
      {},
    );
  });
});

describe('queueUrlFromArn', () => {
  it('builds the AWS URL, or a path-style URL on the endpoint override', () => {
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:mail.fifo';
    expect(queueUrlFromArn(arn)).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/mail.fifo');
    expect(queueUrlFromArn(arn, 'http://127.0.0.1:4566/')).toBe(
      'http://127.0.0.1:4566/123456789012/mail.fifo',
    );
    expect(queueUrlFromArn('arn:aws-cn:sqs:cn-north-1:1:q')).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/1/q',
    );
    expect(queueUrlFromArn('not-an-arn')).toBeUndefined();
  });
});

/** The door props: what the function is told, and the defaults each door changes. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mailSenderPropsFrom } from '../../infra/mail-queue-stack.ts';
import * as infraDoors from '../../infra/mail-sender-props.ts';
import { parseStackSettings, StackSettingsError } from '../../infra/stack-settings.ts';
import * as libDoors from '../../lib/config/transport-config.ts';
import { newStack, senderVariables, synthSender, withoutAwsCredentials } from './infra-fixtures.ts';

describe('MailSender doors', () => {
  beforeAll(() => withoutAwsCredentials());

  it('offers exactly the doors the sender reads', () => {
    expect(infraDoors.MAIL_TRANSPORTS).toEqual(libDoors.MAIL_TRANSPORTS);
    expect(infraDoors.SMTP_ENDPOINTS).toEqual(libDoors.SMTP_ENDPOINTS);
    expect(infraDoors.GRAPH_LARGE_MESSAGE_MODES).toEqual(libDoors.GRAPH_LARGE_MESSAGE_MODES);
    expect(infraDoors.HVE_SMTP_HOST).toBe(libDoors.HVE_SMTP_HOST);
  });

  it('SMTP by default: no door variables, the rate limit and connection cap on', () => {
    const { template } = synthSender({});
    const env = senderVariables(template);
    expect(env).not.toHaveProperty('MAIL_TRANSPORT');
    expect(env).not.toHaveProperty('SMTP_ENDPOINT');
    expect(env).toMatchObject({
      SMTP_HOST: 'smtp.office365.com',
      MAIL_RATE_PER_MINUTE: '30',
      MAIL_MAX_CONNECTIONS: '3',
    });
  });

  it('Graph: the transport and its settings reach the function; no SMTP connection cap', () => {
    const { template, sender } = synthSender({
      transport: 'graph',
      graphEndpoint: 'https://graph.microsoft.us',
      authorityHost: 'https://login.microsoftonline.us',
      saveToSentItems: false,
      graphLargeMessages: 'upload',
    });
    const env = senderVariables(template);
    expect(env).toMatchObject({
      MAIL_TRANSPORT: 'graph',
      O365_GRAPH_ENDPOINT: 'https://graph.microsoft.us',
      MAIL_SAVE_TO_SENT_ITEMS: 'false',
      MAIL_GRAPH_LARGE_MESSAGES: 'upload',
      MAIL_RATE_PER_MINUTE: '30',
    });
    expect(env).toMatchObject({ MAIL_MAX_CONNECTIONS: '0' });
    expect(sender.fn.node.defaultChild).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Sends queued mail through Microsoft 365 (Graph sendMail)',
    });
  });

  it('HVE: its host, and no rate limit unless asked for', () => {
    const env = senderVariables(synthSender({ endpoint: 'hve' }).template);
    expect(env).toMatchObject({ SMTP_ENDPOINT: 'hve', SMTP_HOST: 'smtp.hve.mx.microsoft' });
    expect(env).not.toHaveProperty('MAIL_RATE_PER_MINUTE');
    const limited = senderVariables(
      synthSender({ endpoint: 'hve', sendRateLimit: { messagesPerMinute: 600 } }).template,
    );
    expect(limited).toMatchObject({ MAIL_RATE_PER_MINUTE: '600' });
  });
});

describe('deployment settings for the doors', () => {
  it('take -c transport=graph and the Graph settings as strings, and hand them to the construct', () => {
    const settings = parseStackSettings({
      sender: 'mail@contoso.com',
      tenantId: '11111111-2222-3333-4444-555555555555',
      clientId: '66666666-7777-8888-9999-000000000000',
      transport: 'graph',
      graphEndpoint: 'https://graph.microsoft.us',
      saveToSentItems: 'false',
      graphLargeMessages: 'upload',
    });
    expect(mailSenderPropsFrom(newStack(), settings)).toMatchObject({
      transport: 'graph',
      graphEndpoint: 'https://graph.microsoft.us',
      saveToSentItems: false,
      graphLargeMessages: 'upload',
    });
  });

  it('name a bad door setting and how to set it', () => {
    expect(() => parseStackSettings({ sender: 'mail@contoso.com', endpoint: 'acs' })).toThrow(
      StackSettingsError,
    );
    expect(() => parseStackSettings({ sender: 'mail@contoso.com', endpoint: 'acs' })).toThrow(
      /endpoint: .*Fix: -c endpoint=\.\.\./,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { loadSenderConfig, type SenderConfigResult } from '../../../../lib/config/sender-config.ts';

const BASE = {
  MAIL_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq',
  MAIL_SENDER: 'noreply@contoso.com',
  O365_TENANT_ID: '11111111-2222-3333-4444-555555555555',
  O365_CLIENT_ID: '66666666-7777-8888-9999-000000000000',
  O365_CLIENT_SECRET: 'not-a-real-secret',
};

function expectOk(result: SenderConfigResult) {
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.problems.join(' | ')}`);
  return result;
}

function expectProblems(result: SenderConfigResult): string[] {
  if (result.ok) throw new Error('expected problems, got a valid config');
  return result.problems;
}

describe('MAIL_TRANSPORT=graph', () => {
  it('defaults to the commercial Graph, Sent Items on, large messages rejected, and asks for a Graph token', () => {
    const { config, warnings } = expectOk(loadSenderConfig({ ...BASE, MAIL_TRANSPORT: 'Graph' }));
    expect(config.transport).toBe('graph');
    expect(config.graph).toEqual({
      endpoint: 'https://graph.microsoft.com',
      saveToSentItems: true,
      largeMessages: 'reject',
      timeoutMs: 30_000,
    });
    expect(config.oauth?.scope).toBe('https://graph.microsoft.com/.default');
    expect(warnings).toEqual([]);
  });

  it.each([
    ['graph.microsoft.us', 'https://login.microsoftonline.us', 'https://graph.microsoft.us'],
    [
      'https://dod-graph.microsoft.us/',
      'https://login.microsoftonline.us',
      'https://dod-graph.microsoft.us',
    ],
    [
      'https://microsoftgraph.chinacloudapi.cn',
      'https://login.chinacloudapi.cn',
      'https://microsoftgraph.chinacloudapi.cn',
    ],
  ])(
    'takes the sovereign endpoint %s and scopes the token to it',
    (endpoint, authority, origin) => {
      const { config, warnings } = expectOk(
        loadSenderConfig({
          ...BASE,
          MAIL_TRANSPORT: 'graph',
          O365_GRAPH_ENDPOINT: endpoint,
          O365_AUTHORITY_HOST: authority,
        }),
      );
      expect(config.graph?.endpoint).toBe(origin);
      expect(config.oauth?.scope).toBe(`${origin}/.default`);
      expect(warnings).toEqual([]);
    },
  );

  it('warns when the Graph cloud and the sign-in cloud differ', () => {
    const { warnings } = expectOk(
      loadSenderConfig({
        ...BASE,
        MAIL_TRANSPORT: 'graph',
        O365_GRAPH_ENDPOINT: 'graph.microsoft.us',
      }),
    );
    expect(warnings).toEqual([
      expect.stringMatching(
        /O365_GRAPH_ENDPOINT=https:\/\/graph\.microsoft\.us is GCC High.*set O365_AUTHORITY_HOST=https:\/\/login\.microsoftonline\.us/,
      ),
    ]);
  });

  it('reads MAIL_SAVE_TO_SENT_ITEMS, MAIL_GRAPH_LARGE_MESSAGES and MAIL_GRAPH_TIMEOUT_MS', () => {
    const { config } = expectOk(
      loadSenderConfig({
        ...BASE,
        MAIL_TRANSPORT: 'graph',
        MAIL_SAVE_TO_SENT_ITEMS: 'false',
        MAIL_GRAPH_LARGE_MESSAGES: 'upload',
        MAIL_GRAPH_TIMEOUT_MS: '5000',
      }),
    );
    expect(config.graph).toMatchObject({
      saveToSentItems: false,
      largeMessages: 'upload',
      timeoutMs: 5000,
    });
  });

  it('names every bad Graph variable, with the fix', () => {
    const problems = expectProblems(
      loadSenderConfig({
        ...BASE,
        MAIL_TRANSPORT: 'graph',
        O365_GRAPH_ENDPOINT: 'http://graph.microsoft.com/v1.0',
        MAIL_SAVE_TO_SENT_ITEMS: 'sometimes',
        MAIL_GRAPH_LARGE_MESSAGES: 'split',
        SMTP_AUTH: 'password',
        SMTP_ENDPOINT: 'hve',
        O365_SCOPE: 'https://outlook.office365.com/.default',
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^O365_GRAPH_ENDPOINT must be the https origin.*graph\.microsoft\.us/,
        ),
        expect.stringMatching(/^MAIL_SAVE_TO_SENT_ITEMS must be true or false/),
        expect.stringMatching(/^MAIL_GRAPH_LARGE_MESSAGES must be one of reject, upload/),
        expect.stringMatching(
          /^SMTP_AUTH=password does not fit MAIL_TRANSPORT=graph.*Remove SMTP_AUTH/,
        ),
        expect.stringMatching(/^SMTP_ENDPOINT=hve does not fit MAIL_TRANSPORT=graph/),
      ]),
    );
    // The scope check needs a readable endpoint; here it was not.
    expect(problems).toHaveLength(5);
  });

  it('refuses an O365_SCOPE for another resource: a Graph token must be for Graph', () => {
    const problems = expectProblems(
      loadSenderConfig({
        ...BASE,
        MAIL_TRANSPORT: 'graph',
        O365_SCOPE: 'https://outlook.office365.com/.default',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^O365_SCOPE=https:\/\/outlook\.office365\.com\/\.default does not fit MAIL_TRANSPORT=graph: .*https:\/\/graph\.microsoft\.com\/\.default.*Remove O365_SCOPE/,
      ),
    ]);
  });

  it('needs the Entra app registration and says why', () => {
    const problems = expectProblems(
      loadSenderConfig({
        MAIL_DLQ_URL: BASE.MAIL_DLQ_URL,
        MAIL_SENDER: BASE.MAIL_SENDER,
        MAIL_TRANSPORT: 'graph',
      }),
    );
    expect(problems[0]).toMatch(
      /^O365_TENANT_ID is not set: MAIL_TRANSPORT=graph needs the Entra app registration/,
    );
  });

  it('refuses an unknown transport', () => {
    expect(expectProblems(loadSenderConfig({ ...BASE, MAIL_TRANSPORT: 'ews' }))).toEqual([
      'MAIL_TRANSPORT must be one of smtp, graph (got "ews").',
    ]);
  });

  it('warns when Graph-only variables are set while the sender speaks SMTP', () => {
    const { config, warnings } = expectOk(
      loadSenderConfig({ ...BASE, MAIL_SAVE_TO_SENT_ITEMS: 'false' }),
    );
    expect(config.graph).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/^MAIL_SAVE_TO_SENT_ITEMS has no effect with MAIL_TRANSPORT=smtp/),
    ]);
  });
});

describe('SMTP_ENDPOINT=hve', () => {
  it('points SMTP at High Volume Email on 587 with STARTTLS and OAuth', () => {
    const { config } = expectOk(loadSenderConfig({ ...BASE, SMTP_ENDPOINT: 'hve' }));
    expect(config.smtp).toMatchObject({
      endpoint: 'hve',
      host: 'smtp.hve.mx.microsoft',
      port: 587,
      tls: 'starttls',
      auth: 'oauth2',
    });
    expect(config.oauth?.scope).toBe('https://outlook.office365.com/.default');
  });

  it('keeps an explicit SMTP_HOST (emulators) and warns about the retired host', () => {
    expect(
      expectOk(loadSenderConfig({ ...BASE, SMTP_ENDPOINT: 'hve', SMTP_HOST: '127.0.0.1' })).config
        .smtp.host,
    ).toBe('127.0.0.1');
    const { warnings } = expectOk(
      loadSenderConfig({ ...BASE, SMTP_ENDPOINT: 'hve', SMTP_HOST: 'smtp-hve.office365.com' }),
    );
    expect(warnings).toEqual([
      expect.stringMatching(/smtp-hve\.office365\.com is being retired.*smtp\.hve\.mx\.microsoft/),
    ]);
  });

  it('refuses SMTP_AUTH=none, implicit TLS and unknown presets', () => {
    expect(
      expectProblems(loadSenderConfig({ ...BASE, SMTP_ENDPOINT: 'hve', SMTP_AUTH: 'none' })),
    ).toEqual([expect.stringMatching(/^SMTP_AUTH=none does not fit SMTP_ENDPOINT=hve/)]);
    expect(
      expectProblems(loadSenderConfig({ ...BASE, SMTP_ENDPOINT: 'hve', SMTP_PORT: '465' })),
    ).toEqual([expect.stringMatching(/smtp\.hve\.mx\.microsoft offers no implicit TLS/)]);
    expect(expectProblems(loadSenderConfig({ ...BASE, SMTP_ENDPOINT: 'acs' }))).toEqual([
      'SMTP_ENDPOINT must be one of office365, hve (got "acs").',
    ]);
  });
});

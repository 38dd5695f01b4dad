import type { VariantInput } from './variant-protocol.ts';

/**
 * The sender's configuration (SPEC, "Configuration of the sender") pointed at the bench's
 * emulators: OAuth through the local token endpoint, STARTTLS on the emulator's port.
 */
export function handlerEnv(input: VariantInput): Record<string, string> {
  return {
    MAIL_QUEUE_URL: input.queueUrl,
    MAIL_DLQ_URL: input.dlqUrl,
    MAIL_SENDER: input.mailbox,
    SMTP_HOST: input.smtp.host,
    SMTP_PORT: String(input.smtp.port),
    SMTP_TLS: 'starttls',
    SMTP_AUTH: 'oauth2',
    O365_TENANT_ID: input.oauth.tenantId,
    O365_CLIENT_ID: input.oauth.clientId,
    O365_CLIENT_SECRET: input.oauth.clientSecret,
    O365_AUTHORITY_HOST: input.oauth.authorityHost,
    O365_SCOPE: input.oauth.scope,
    AWS_ENDPOINT_URL_SQS: input.sqsEndpoint,
    AWS_REGION: input.region,
    // A Lambda logs at INFO by default; the bench keeps that so (a) pays for its own logging.
    POWERTOOLS_SERVICE_NAME: 'o365-mail-bench',
  };
}

/**
 * What the sender's module scope sees in the cold-start runs: a plausible configuration that
 * needs no network to initialise (nothing listens on these ports; nothing should connect).
 */
export function coldStartEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...handlerEnv({
      queueUrl: 'http://127.0.0.1:9/000000000000/cold-start',
      dlqUrl: 'http://127.0.0.1:9/000000000000/cold-start-dlq',
      sqsEndpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      messages: 0,
      batch: 10,
      concurrency: 1,
      smtp: { host: '127.0.0.1', port: 9 },
      oauth: {
        authorityHost: 'https://127.0.0.1:9',
        tenantId: 'cold-start-tenant',
        clientId: 'cold-start-client',
        clientSecret: 'cold-start-secret',
        scope: 'https://outlook.office365.com/.default',
      },
      mailbox: 'cold-start@contoso.example',
    }),
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
}

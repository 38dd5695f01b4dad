import { clearCaches } from '@aws-lambda-powertools/parameters';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSenderConfigWithSecrets, resolveSecrets } from '../../lib/config/secrets.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:o365-mail-AbCdEf';
const ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  MAIL_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq',
  MAIL_SENDER: 'noreply@contoso.com',
  MAIL_SECRET_ARN: ARN,
};
const SECRET = {
  O365_TENANT_ID: '11111111-2222-3333-4444-555555555555',
  O365_CLIENT_ID: '66666666-7777-8888-9999-000000000000',
  O365_CLIENT_SECRET: 'value-from-secrets-manager',
};

const secretsManager = mockClient(SecretsManagerClient);
const savedEnv = { ...process.env };

beforeEach(() => {
  secretsManager.reset();
  clearCaches();
  // Powertools builds its SDK client from the process environment.
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(() => {
  secretsManager.restore();
  process.env = savedEnv;
});

describe('resolveSecrets', () => {
  it('leaves the environment alone when MAIL_SECRET_ARN is not set', async () => {
    const env = { MAIL_SENDER: 'a@contoso.com' };
    expect(await resolveSecrets(env)).toEqual({ env, fromSecret: [], ignoredKeys: [] });
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('merges the JSON secret over the environment and caches it', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: JSON.stringify({ ...SECRET, Note: 'x' }) });
    const first = await resolveSecrets({ ...ENV, O365_CLIENT_SECRET: 'stale-env-value' });
    expect(first.env.O365_CLIENT_SECRET).toBe('value-from-secrets-manager');
    expect(first.fromSecret.sort()).toEqual([
      'O365_CLIENT_ID',
      'O365_CLIENT_SECRET',
      'O365_TENANT_ID',
    ]);
    expect(first.ignoredKeys).toEqual(['Note']);
    await resolveSecrets(ENV);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('explains a missing secret without throwing at the caller', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
    );
    const result = await loadSenderConfigWithSecrets(ENV);
    expect(result).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(
          /^MAIL_SECRET_ARN: could not read secret .*ResourceNotFoundException.*check the ARN/,
        ),
      ],
    });
  });

  it('refuses a secret that is not JSON, without quoting it', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'hunter2-plain-text' });
    const result = await loadSenderConfigWithSecrets(ENV);
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).toMatch(/not valid JSON/);
    expect(text).not.toContain('hunter2');
  });

  it('refuses non-string values', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ ...SECRET, SMTP_PASSWORD: 42 }) });
    await expect(resolveSecrets(ENV)).rejects.toMatchObject({
      name: 'SecretResolutionError',
      message: expect.stringMatching(/SMTP_PASSWORD .* must be a string/),
    });
  });
});

describe('loadSenderConfigWithSecrets', () => {
  it('builds the OAuth configuration from the secret', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(SECRET) });
    const result = await loadSenderConfigWithSecrets(ENV);
    expect(result.ok && result.config.oauth).toMatchObject({
      clientSecret: 'value-from-secrets-manager',
      tenantId: SECRET.O365_TENANT_ID,
    });
    expect(result.ok && result.config.secretArn).toBe(ARN);
  });

  it('warns when a Lambda holds secrets in plain environment variables', async () => {
    const result = await loadSenderConfigWithSecrets({
      ...ENV,
      MAIL_SECRET_ARN: undefined,
      ...SECRET,
      AWS_LAMBDA_FUNCTION_NAME: 'o365-sender',
    });
    expect(result.ok && result.warnings).toEqual([
      expect.stringMatching(/^O365_CLIENT_SECRET set as plain Lambda environment variables/),
    ]);
    expect(JSON.stringify(result.ok && result.warnings)).not.toContain(SECRET.O365_CLIENT_SECRET);
  });
});

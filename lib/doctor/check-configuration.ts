import {
  CREDENTIAL_WARNING_DAYS,
  credentialExpiry,
  describeCredentialExpiry,
  renewalFix,
} from '../config/credential-expiry.ts';
import { loadSenderConfigWithSecrets } from '../config/secrets.ts';
import type { SenderConfig } from '../config/sender-config.ts';
import { failed, ok, type StepResult } from './doctor-step.ts';

/** A stand-in so queue settings, which doctor does not use, do not stop the SMTP checks. */
const PLACEHOLDER_DLQ = 'https://sqs.us-east-1.amazonaws.com/000000000000/doctor-placeholder-dlq';

/**
 * Step 1: the sender's configuration, read by the sender's own loader (secrets from
 * `MAIL_SECRET_ARN` included). `MAIL_DLQ_URL` is the sender's business, not the path to Office
 * 365: when it is missing doctor says so and goes on.
 */
export async function checkConfiguration(
  env: NodeJS.ProcessEnv,
): Promise<{ result: StepResult; config?: SenderConfig }> {
  const missingDlq = !env.MAIL_DLQ_URL?.trim();
  const loaded = await loadSenderConfigWithSecrets(
    missingDlq ? { ...env, MAIL_DLQ_URL: PLACEHOLDER_DLQ } : env,
  );
  if (!loaded.ok) {
    return {
      result: failed(
        'configuration',
        {
          reason: `${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'} in the sender's configuration:`,
          explanation:
            'The sender cannot start with this configuration; it would retry every message and send none.',
          fix: 'Set the variables named above: in .env or the environment locally; in the stack and the MAIL_SECRET_ARN secret on AWS.',
        },
        loaded.problems,
      ),
    };
  }
  const { config } = loaded;
  const { smtp } = config;
  const { graph } = config;
  const door = graph
    ? `Microsoft Graph ${graph.endpoint} (sendMail; saveToSentItems ${graph.saveToSentItems}, messages over 4 MB: ${graph.largeMessages})`
    : `${smtp.endpoint === 'hve' ? 'High Volume Email, ' : ''}SMTP ${smtp.host}:${smtp.port} (${smtp.tls === 'implicit' ? 'implicit TLS' : 'STARTTLS'}), SMTP_AUTH=${smtp.auth}`;
  const details = [door, `sender mailbox ${config.sender}`];
  if (config.oauth) {
    const credential = config.oauth.clientSecret ? 'client secret' : 'certificate';
    details.push(
      `Entra app ${config.oauth.clientId} in tenant ${config.oauth.tenantId} (${credential}), authority ${config.oauth.authorityHost}`,
    );
  }
  if (config.secretArn) details.push(`secrets from ${config.secretArn}`);
  const warnings = [...loaded.warnings];
  const expiry = credentialExpiry(config);
  if (expiry) {
    details.push(`credential: ${describeCredentialExpiry(expiry)}`);
    if (expiry.daysLeft < CREDENTIAL_WARNING_DAYS) {
      warnings.push(`${describeCredentialExpiry(expiry)}: ${renewalFix(expiry)}.`);
    }
  } else if (config.oauth?.clientSecret || config.password !== undefined) {
    details.push(
      `credential: expiry unknown (put expiresAt next to it in the secret, or set MAIL_CREDENTIAL_EXPIRES_AT, to be warned ${CREDENTIAL_WARNING_DAYS} days ahead)`,
    );
  }
  if (missingDlq) warnings.push('MAIL_DLQ_URL is not set: the sender needs it (doctor does not).');
  return { result: ok('configuration', details, warnings), config };
}

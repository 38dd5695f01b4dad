import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SenderConfig } from '../config/sender-config.ts';
import { composeMime } from '../delivery/compose-mime.ts';
import { smtpConnectionOptions } from '../transport/smtp/smtp-connection-options.ts';
import {
  connect,
  loginOAuth2,
  loginPassword,
  quit,
  sendMessage,
} from '../transport/smtp/smtp-connection-steps.ts';
import { failed, failureFromError, ok, type StepResult, skipped } from './doctor-step.ts';

export interface AuthCheckOptions {
  /** The access token from the token step (XOAUTH2). */
  token?: string;
  /** Send a test message to this address after AUTH. */
  sendTestTo?: string;
  /** The From of the test message. @default the sender mailbox */
  from?: string;
}

/**
 * Steps 6 and 7: AUTH exactly as the sender does it (nodemailer's SMTPConnection with the
 * sender's connection options: STARTTLS required, certificates verified), then, when asked, one
 * test message on the same session (Office 365 checks send-as only after DATA).
 */
export async function checkAuthAndSend(
  config: SenderConfig,
  options: AuthCheckOptions,
): Promise<StepResult[]> {
  const conn = new SMTPConnection(smtpConnectionOptions(config.smtp));
  conn.on('error', () => {
    // Reported through the step that was running; an unhandled 'error' would end the process.
  });
  try {
    try {
      await connect(conn);
      await login(conn, config, options.token);
    } catch (error) {
      return [failed('auth', failureFromError(error)), skipped('sendTest', 'skipped: AUTH failed')];
    }
    const auth =
      config.smtp.auth === 'none'
        ? ok('auth', ['SMTP_AUTH=none: no AUTH (only for a local capture server)'])
        : ok('auth', [
            `235 Authentication successful as ${config.sender} (${config.smtp.auth === 'oauth2' ? 'XOAUTH2' : 'LOGIN'})`,
          ]);
    if (!options.sendTestTo) return [auth, skipped('sendTest', 'not asked for (--to <address>)')];
    return [auth, await sendTest(conn, config, options.sendTestTo, options.from)];
  } finally {
    await quit(conn);
  }
}

async function login(conn: SMTPConnection, config: SenderConfig, token?: string): Promise<void> {
  switch (config.smtp.auth) {
    case 'oauth2':
      if (!token) throw new Error('no access token');
      // The token from the token step: one token request per doctor run.
      return loginOAuth2(conn, config.sender, { getAccessToken: async () => token }, false);
    case 'password':
      return loginPassword(conn, config.sender, config.password ?? '');
    case 'none':
      return;
  }
}

async function sendTest(
  conn: SMTPConnection,
  config: SenderConfig,
  to: string,
  from = config.sender,
): Promise<StepResult> {
  try {
    const mime = await composeMime({
      from,
      to,
      subject: 'o365-mail doctor: test message',
      text: `This message was sent by "o365-mail doctor --to" through ${config.smtp.host}:${config.smtp.port} as ${config.sender}.\n`,
    });
    const info = await sendMessage(conn, mime);
    const refused = info.rejected?.length ? `; refused: ${info.rejected.join(', ')}` : '';
    return ok('sendTest', [`from ${from} to ${to}: ${info.response}${refused}`]);
  } catch (error) {
    return failed('sendTest', failureFromError(error), [`from ${from} to ${to}`]);
  }
}

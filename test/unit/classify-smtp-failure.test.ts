import { describe, expect, it } from 'vitest';
import { TokenAcquisitionError } from '../../lib/auth/token-acquisition-error.ts';
import {
  classificationToOutcome,
  classifySmtpFailure,
  parseSmtpReply,
} from '../../lib/transport/smtp/classify-smtp-failure.ts';
import {
  OFFICE365_REPLIES,
  type ReplyTableRow,
} from '../../lib/transport/smtp/office365-replies.ts';

const replyRows = OFFICE365_REPLIES.filter((row) => !row.match.error);
const errorRows = OFFICE365_REPLIES.filter((row) => row.match.error);

/** The error nodemailer hands back for a server reply at `command`. */
function nodemailerReplyError(response: string, command: string) {
  return Object.assign(new Error(`Message failed: ${response}`), {
    code: 'EENVELOPE',
    response,
    responseCode: Number(response.slice(0, 3)),
    command,
  });
}

/** The error a row's `exampleError` describes, as nodemailer or the token provider throws it. */
function exampleErrorOf(row: ReplyTableRow): unknown {
  const e = row.exampleError!;
  if (row.stage === 'token endpoint') {
    return new TokenAcquisitionError({
      errorCode: e.code,
      description: row.example,
      httpStatus: e.httpStatus,
    });
  }
  return Object.assign(new Error(row.example), e);
}

describe('the Office 365 failure table', () => {
  it('has at least 25 rows with unique ids and complete text', () => {
    expect(OFFICE365_REPLIES.length).toBeGreaterThanOrEqual(25);
    expect(new Set(OFFICE365_REPLIES.map((r) => r.id)).size).toBe(OFFICE365_REPLIES.length);
    for (const row of OFFICE365_REPLIES) {
      expect(row.explanation.length, row.id).toBeGreaterThan(10);
      expect(row.fix.length, row.id).toBeGreaterThan(10);
    }
  });

  it.each(replyRows.map((r) => [r.id, r] as const))(
    'reply row %s classifies its own example',
    (_id, row) => {
      const fromString = classifySmtpFailure(row.example);
      expect(fromString.entry?.id).toBe(row.id);
      expect(fromString.failureClass).toBe(row.failureClass);
      expect(fromString.minDelaySeconds).toBe(row.minDelaySeconds);
      expect(fromString.reason).toContain(row.example);

      const fromError = classifySmtpFailure(nodemailerReplyError(row.example, 'DATA'));
      expect(fromError.entry?.id).toBe(row.id);
      expect(fromError.reply).toMatchObject({
        code: Number(row.example.slice(0, 3)),
        command: 'DATA',
      });
    },
  );

  it.each(errorRows.map((r) => [r.id, r] as const))(
    'error row %s classifies its own example',
    (_id, row) => {
      expect(row.exampleError, 'rows without a reply describe their error').toBeDefined();
      const c = classifySmtpFailure(exampleErrorOf(row));
      expect(c.entry?.id).toBe(row.id);
      expect(c.failureClass).toBe(row.failureClass);
      expect(c.fix).toBe(row.fix);
    },
  );
});

describe('classifySmtpFailure', () => {
  it.each([
    // enhanced code first: a 4xx basic code with a 5.x.x enhanced code is not a retry
    ['451 5.7.3 STARTTLS is required to send mail', 'config', 'starttls-required'],
    // same enhanced code, told apart by basic code / text
    ['535 5.7.3 Authentication unsuccessful', 'config', 'auth-unsuccessful'],
    ['421 4.3.2 Service not active', 'retry', 'service-not-available'],
    ['432 4.3.2 Concurrent connections limit exceeded', 'retry', 'concurrent-connections'],
    ['421 4.4.2 Connection dropped due to ConnectionReset', 'retry', 'connection-dropped'],
    ['451 4.7.612 Access denied, please try again later', 'retry', 'access-denied-try-later'],
    [
      '550 5.2.251 Sender throttled due to continuous mailbox full errors',
      'config',
      'continuous-error-throttle',
    ],
    ['550 5.7.503 Access denied, banned sender', 'config', 'spam-abuse-banned'],
    ['550 5.2.2 Submission quota exceeded', 'config', 'recipient-quota'],
  ])('%s → %s', (reply, failureClass, id) => {
    const c = classifySmtpFailure(reply);
    expect(c.failureClass).toBe(failureClass);
    expect(c.entry?.id).toBe(id);
  });

  it.each([
    ['a 4xx reply not in the table', '450 4.2.1 Mailbox busy', 'RCPT TO', 'retry'],
    [
      'a 5xx reply at RCPT TO',
      '550 5.4.1 Recipient address rejected: Access denied',
      'RCPT TO',
      'rejected',
    ],
    ['a 5xx reply at MAIL FROM', '553 5.1.0 Sender rejected', 'MAIL FROM', 'rejected'],
    ['a 5xx reply at DATA', '554 5.7.1 Message rejected as spam', 'DATA', 'rejected'],
    ['a 5xx reply at AUTH', '535 5.7.8 Error: authentication failed', 'AUTH LOGIN', 'config'],
    ['a 5xx reply to STARTTLS', '554 5.7.0 TLS not available', 'CONN', 'config'],
  ])('falls back for %s', (_what, response, command, failureClass) => {
    const c = classifySmtpFailure(nodemailerReplyError(response, command));
    expect(c.failureClass).toBe(failureClass);
    expect(c.entry).toBeUndefined();
    expect(c.reason).toContain(response);
  });

  it.each([
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, 'retry'],
    [{ code: 'ESOCKET', message: 'socket hang up' }, 'retry'],
    [{ code: 'EPROTOCOL', message: 'Invalid greeting' }, 'retry'],
    [{ code: 'EAUTH', message: 'Invalid login' }, 'config'],
    [{ code: 'EOAUTH2', message: 'token failed' }, 'config'],
    [{ code: 'EENVELOPE', message: 'No recipients defined' }, 'rejected'],
    [new Error('something nobody expected'), 'retry'],
  ])('falls back by error code: %o → %s', (err, failureClass) => {
    expect(classifySmtpFailure(err).failureClass).toBe(failureClass);
  });

  it('retries a 432 greeting (too many connections for the mailbox) after at least a minute', () => {
    // What nodemailer throws when the greeting is not 220 (see _actionGreeting): a warm sandbox
    // that still holds an idle session can push a mailbox over its ~3 connections.
    const greeting = Object.assign(
      new Error('Invalid greeting. response=432 4.3.2 Concurrent connections limit exceeded'),
      {
        code: 'EPROTOCOL',
        response: '432 4.3.2 Concurrent connections limit exceeded',
        responseCode: 432,
        command: 'CONN',
      },
    );
    const c = classifySmtpFailure(greeting);
    expect(c.failureClass).toBe('retry');
    expect(c.entry?.id).toBe('concurrent-connections');
    expect(c.minDelaySeconds).toBe(60);
  });

  it('finds a token error that nodemailer wrapped as EAUTH', () => {
    const tokenError = new TokenAcquisitionError({
      errorCode: 'invalid_client',
      description: 'AADSTS7000215: Invalid client secret provided.',
      httpStatus: 401,
    });
    // nodemailer keeps the object but overwrites its code (see _formatError)
    Object.assign(tokenError, { code: 'EAUTH', command: 'AUTH XOAUTH2' });
    const c = classifySmtpFailure(tokenError);
    expect(c).toMatchObject({ failureClass: 'config', entry: { id: 'token-invalid-secret' } });
    expect(classifySmtpFailure(new Error('login failed', { cause: tokenError })).entry?.id).toBe(
      'token-invalid-secret',
    );
  });

  it('treats 5xx and unreachable token endpoints as retry whatever the code says', () => {
    for (const details of [
      {
        errorCode: 'server_error',
        description: 'AADSTS50000: There was an error issuing a token.',
        httpStatus: 500,
      },
      { errorCode: 'network_error', description: 'Network request failed: fetch failed' },
      { errorCode: 'invalid_client', description: 'throttled', httpStatus: 429 },
    ]) {
      const c = classifySmtpFailure(new TokenAcquisitionError(details));
      expect(c).toMatchObject({ failureClass: 'retry', minDelaySeconds: 60 });
    }
  });

  it('names all refused recipients in the reason', () => {
    const err = Object.assign(
      nodemailerReplyError(
        '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
        'RCPT TO',
      ),
      {
        rejected: ['a@example.com', 'b@example.com'],
      },
    );
    expect(classifySmtpFailure(err).reason).toMatch(
      /Unknown recipient \(RCPT TO\): 550 5\.1\.10 .*a@example\.com, b@example\.com/,
    );
  });

  it('accepts an SmtpReply object', () => {
    const c = classifySmtpFailure({
      code: 554,
      enhanced: '5.6.0',
      text: '554 5.6.0 Invalid message content',
      command: 'DATA',
    });
    expect(c.entry?.id).toBe('bare-linefeeds');
  });
});

describe('parseSmtpReply', () => {
  it('reads basic and enhanced codes', () => {
    expect(parseSmtpReply('550 5.1.10 RESOLVER.ADR.RecipientNotFound; x')).toEqual({
      code: 550,
      enhanced: '5.1.10',
      text: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; x',
    });
    expect(parseSmtpReply('354 Start mail input')).toEqual({
      code: 354,
      text: '354 Start mail input',
    });
    expect(parseSmtpReply('Connection closed')).toBeUndefined();
  });
});

describe('classificationToOutcome', () => {
  it('maps each class to its SendOutcome', () => {
    expect(
      classificationToOutcome(
        classifySmtpFailure(
          '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
        ),
      ),
    ).toMatchObject({
      kind: 'retry',
      minDelaySeconds: 60,
      reply: { code: 421, enhanced: '4.4.2' },
    });
    expect(
      classificationToOutcome(
        classifySmtpFailure('552 5.3.4 Message size exceeds fixed maximum message size'),
      ),
    ).toMatchObject({ kind: 'rejected' });
    const config = classificationToOutcome(
      classifySmtpFailure('535 5.7.3 Authentication unsuccessful'),
    );
    expect(config).toMatchObject({ kind: 'config' });
    expect(config.kind === 'config' && config.fix).toMatch(/SMTP.SendAsApp/);
  });
});

import { describe, expect, it } from 'vitest';
import { TokenAcquisitionError } from '../../../../lib/auth/token-acquisition-error.ts';
import {
  classifyGraphFailure,
  graphClassificationToOutcome,
  parseGraphReply,
} from '../../../../lib/transport/graph/classify-graph-failure.ts';
import {
  GRAPH_REPLIES,
  type GraphReplyRow,
} from '../../../../lib/transport/graph/graph-replies.ts';
import { GraphNetworkError } from '../../../../lib/transport/graph/graph-request.ts';

const answerRows = GRAPH_REPLIES.filter((row) => row.match.status || row.match.code);
const errorRows = GRAPH_REPLIES.filter((row) => row.match.error && row.stage !== 'token endpoint');
const tokenRows = GRAPH_REPLIES.filter((row) => row.stage === 'token endpoint');

function answerOf(row: GraphReplyRow) {
  return parseGraphReply(row.example, row.match.request?.[0] ?? 'sendMail')!;
}

describe('the Graph failure table', () => {
  it('has unique ids and complete text', () => {
    expect(new Set(GRAPH_REPLIES.map((r) => r.id)).size).toBe(GRAPH_REPLIES.length);
    for (const row of GRAPH_REPLIES) {
      expect(row.explanation.length, row.id).toBeGreaterThan(10);
      expect(row.fix.length, row.id).toBeGreaterThan(10);
    }
  });

  it.each(answerRows.map((r) => [r.id, r] as const))(
    'answer row %s classifies its own example',
    (_id, row) => {
      const c = classifyGraphFailure(answerOf(row));
      expect(c.entry?.id).toBe(row.id);
      expect(c.failureClass).toBe(row.failureClass);
      expect(c.reason).toContain(row.example);
      expect(c.reply).toMatchObject({ code: answerOf(row).status, command: answerOf(row).request });
    },
  );

  it.each(errorRows.map((r) => [r.id, r] as const))(
    'row %s classifies a request without an answer',
    (_id, row) => {
      const c = classifyGraphFailure(
        new GraphNetworkError('sendMail', row.match.error![0]!, row.example),
      );
      expect(c.entry?.id).toBe(row.id);
      expect(c.failureClass).toBe(row.failureClass);
      expect(c.reply).toBeUndefined();
    },
  );

  it.each(tokenRows.map((r) => [r.id, r] as const))(
    'token row %s wins over the shared SMTP row',
    (_id, row) => {
      const c = classifyGraphFailure(
        new TokenAcquisitionError({
          errorCode: 'invalid_resource',
          description: row.example,
          httpStatus: 400,
        }),
      );
      expect(c.entry?.id).toBe(row.id);
      expect(c.fix).toContain('O365_GRAPH_ENDPOINT');
    },
  );
});

describe('classifyGraphFailure', () => {
  it.each([
    ['400 ErrorInvalidRecipients: At least one recipient is not valid.', 'rejected'],
    ['400 ErrorMimeContentInvalidBase64String: Invalid base64 string for MIME content.', 'invalid'],
    ['401 InvalidAuthenticationToken: Access token has expired or is not yet valid.', 'config'],
    ['403 ErrorAccessDenied: Access is denied. Check credentials and try again.', 'config'],
    ["404 ErrorInvalidUser: The requested user 'x@contoso.com' is invalid.", 'config'],
    ['413 ErrorMessageSizeExceeded: too large', 'rejected'],
    ['429 ApplicationThrottled: Application is over its MailboxConcurrency limit.', 'retry'],
    ['500 UnknownError: ', 'retry'],
    ['504 GatewayTimeout: The gateway did not receive a response.', 'retry'],
    [
      '409 ErrorIrresolvableConflict: The send or update operation could not be performed.',
      'rejected',
    ],
  ])('%s is %s', (text, failureClass) => {
    expect(classifyGraphFailure(text).failureClass).toBe(failureClass);
  });

  it('waits no less than Retry-After, and the row floor when Graph gives none', () => {
    const throttled = parseGraphReply(
      '429 ApplicationThrottled: Application is over its MailboxRequests limit.',
    )!;
    expect(classifyGraphFailure(throttled).minDelaySeconds).toBe(60);
    expect(classifyGraphFailure({ ...throttled, retryAfterSeconds: 12.2 }).minDelaySeconds).toBe(
      13,
    );
    expect(
      classifyGraphFailure({ ...throttled, status: 503, retryAfterSeconds: 4 }).minDelaySeconds,
    ).toBe(4);
  });

  it('gives a permission failure of the draft route the Mail.ReadWrite fix, and of sendMail the Mail.Send one', () => {
    const denied = '403 ErrorAccessDenied: Access is denied.';
    expect(classifyGraphFailure(parseGraphReply(denied, 'createUploadSession')).fix).toContain(
      'Application Mail.ReadWrite',
    );
    expect(classifyGraphFailure(parseGraphReply(denied, 'sendMail')).fix).toContain(
      'Application Mail.Send',
    );
  });

  it('shares the SMTP table for token failures Graph has no row of its own for', () => {
    const c = classifyGraphFailure(
      new TokenAcquisitionError({
        errorCode: 'invalid_client',
        description: 'AADSTS7000215: Invalid client secret provided.',
        httpStatus: 401,
      }),
    );
    expect(c).toMatchObject({
      failureClass: 'config',
      fix: expect.stringContaining('O365_CLIENT_SECRET'),
    });
    const transient = classifyGraphFailure(
      new TokenAcquisitionError({
        errorCode: 'temporarily_unavailable',
        description: 'AADSTS90033',
        httpStatus: 503,
      }),
    );
    expect(transient).toMatchObject({ failureClass: 'retry', minDelaySeconds: 60 });
  });

  it('turns an unknown failure without an answer into a retry, and never throws', () => {
    expect(classifyGraphFailure(new Error('something odd')).failureClass).toBe('retry');
    expect(classifyGraphFailure(undefined).failureClass).toBe('retry');
    expect(classifyGraphFailure(42).failureClass).toBe('retry');
  });

  it('maps to the five outcomes', () => {
    expect(
      graphClassificationToOutcome(classifyGraphFailure('400 ErrorMimeContentInvalid: bad')),
    ).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('MIME content refused'),
    });
    expect(
      graphClassificationToOutcome(
        classifyGraphFailure('403 ErrorAccessDenied: Access is denied.'),
      ),
    ).toMatchObject({ kind: 'config', fix: expect.stringContaining('New-ServicePrincipal') });
  });
});

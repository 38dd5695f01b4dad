import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../../lib/cli/dead-letters.ts';
import { explainDeadLetter } from '../../../../lib/cli/explain-dead-letter.ts';

const letter = (failureReason: string): DeadLetter => ({
  messageId: 'm-1',
  failureClass: 'rejected',
  failureReason,
  body: '{}',
  attributes: {},
});

describe('explainDeadLetter for each door', () => {
  it('explains an SMTP reply with the Office 365 table', () => {
    expect(
      explainDeadLetter(
        letter('Unknown recipient (RCPT TO): 550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'),
      ),
    ).toMatchObject({ tableRow: 'recipient-not-found' });
  });

  it('explains a Graph answer with the Graph table', () => {
    expect(
      explainDeadLetter(
        letter(
          "Invalid recipients (sendMail): 400 ErrorInvalidRecipients: At least one recipient isn't valid.",
        ),
      ),
    ).toMatchObject({
      tableRow: 'graph-invalid-recipients',
      fix: expect.stringContaining('redrive'),
    });
  });

  it('gives the fix a limit refusal wrote into its own reason', () => {
    expect(
      explainDeadLetter(
        letter(
          'Too many recipients for High Volume Email: 51 (to, cc and bcc together), at most 50 per message; not sent. Fix: split the recipients over several messages.',
        ),
      ),
    ).toEqual({
      explanation: expect.stringContaining('before sending'),
      fix: 'split the recipients over several messages.',
    });
  });
});

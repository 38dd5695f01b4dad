import { describe, expect, it } from 'vitest';
import { isFromAllowed } from '../../../../lib/delivery/allowed-from.ts';

const sender = 'Mailer@Contoso.com';

describe('isFromAllowed', () => {
  it('allows only the sender mailbox when MAIL_ALLOWED_FROM is empty, case-insensitively', () => {
    expect(isFromAllowed('mailer@contoso.com', [], sender)).toBe(true);
    expect(isFromAllowed('MAILER@CONTOSO.COM', [], sender)).toBe(true);
    expect(isFromAllowed('ceo@contoso.com', [], sender)).toBe(false);
  });

  it('allows listed addresses and @domain entries', () => {
    const allowed = ['billing@contoso.com', '@Notify.Contoso.com'];
    expect(isFromAllowed('Billing@contoso.com', allowed, sender)).toBe(true);
    expect(isFromAllowed('alerts@notify.contoso.com', allowed, sender)).toBe(true);
    expect(isFromAllowed('mailer@contoso.com', allowed, sender)).toBe(false);
  });

  it('does not let a sub- or look-alike domain through an @domain entry', () => {
    const allowed = ['@contoso.com'];
    expect(isFromAllowed('x@evil.contoso.com', allowed, sender)).toBe(false);
    expect(isFromAllowed('x@contoso.com.evil.net', allowed, sender)).toBe(false);
    expect(isFromAllowed('x@notcontoso.com', allowed, sender)).toBe(false);
  });

  it('compares the bare address of a display-name form and refuses malformed ones', () => {
    expect(isFromAllowed('Billing <billing@contoso.com>', ['billing@contoso.com'], sender)).toBe(
      true,
    );
    expect(isFromAllowed('contoso.com', ['@contoso.com'], sender)).toBe(false);
    expect(isFromAllowed('@contoso.com', ['@contoso.com'], sender)).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byteLength,
  crlfBody,
  dotStuffedBody,
} from '../../../../../lib/transport/smtp/message-body.ts';
import { parseEhloExtensions } from '../../../../../lib/transport/smtp/smtp-extensions.ts';
import { SmtpReplyReader } from '../../../../../lib/transport/smtp/smtp-reply-reader.ts';

const text = (pieces: Buffer[]) => Buffer.concat(pieces).toString('latin1');

/** What a server stores from DATA (RFC 5321 §4.5.2): the body up to `.` CRLF, one leading dot removed. */
function unstuff(wire: string): string {
  expect(wire.endsWith('\r\n.\r\n') || wire === '.\r\n').toBe(true);
  const body = wire.slice(0, -3);
  return body
    .split('\r\n')
    .map((line) => (line.startsWith('.') ? line.slice(1) : line))
    .join('\r\n');
}

const lines = fc.array(
  fc.oneof(fc.constantFrom('', '.', '..', '.x', 'a.b', '\r', ' .'), fc.string({ maxLength: 8 })),
  { maxLength: 12 },
);
const endings = fc.array(fc.constantFrom('\r\n', '\n'), { minLength: 12, maxLength: 12 });

describe('message body on the wire', () => {
  it('CRLF line ends for BDAT: bare LFs get their CR, nothing else changes', () => {
    expect(text(crlfBody(Buffer.from('a\nb\r\n.\n\nc')))).toBe('a\r\nb\r\n.\r\n\r\nc');
    const raw = Buffer.from('Subject: x\r\n\r\nno change\r\n');
    const pieces = crlfBody(raw);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.buffer).toBe(raw.buffer);
    expect(byteLength(crlfBody(Buffer.from('a\nb')))).toBe(4);
  });

  it('DATA: a server that unstuffs gets the CRLF body back, whatever its lines', () => {
    fc.assert(
      fc.property(lines, endings, fc.boolean(), (body, ends, lastEnds) => {
        let raw = body
          .map((line, i) => line + (i < body.length - 1 || lastEnds ? ends[i] : ''))
          .join('');
        raw = raw.replace(/\r(?!\n)/g, ''); // a lone CR is neither a line end nor ours to fix
        const wire = text(dotStuffedBody(Buffer.from(raw, 'latin1')));
        const canonical = raw.replace(/\r?\n/g, '\r\n');
        const stored = unstuff(wire);
        // The stored message keeps its last line end (added when the body had none).
        const ended = canonical === '' || canonical.endsWith('\r\n');
        expect(stored).toBe(ended ? canonical : `${canonical}\r\n`);
        // No line of the wire form is a lone dot before the terminator.
        expect(wire.slice(0, -3).split('\r\n').slice(0, -1)).not.toContain('.');
      }),
    );
  });
});

describe('SMTP replies', () => {
  it('are cut at their last line, across chunks, with UTF-8 split anywhere', () => {
    const reader = new SmtpReplyReader();
    const bytes = Buffer.from(
      '250-first\r\n250-ünïcode\r\n250 last\r\n354 go ahead\r\n550 5.1.1 nö\n',
    );
    const replies = [];
    for (let i = 0; i < bytes.length; i += 3)
      replies.push(...reader.push(bytes.subarray(i, i + 3)));
    expect(replies).toEqual([
      { code: 250, text: '250-first\n250-ünïcode\n250 last' },
      { code: 354, text: '354 go ahead' },
      { code: 550, text: '550 5.1.1 nö' },
    ]);
  });

  it('refuses a reply that never ends', () => {
    const reader = new SmtpReplyReader();
    expect(() => reader.push(Buffer.alloc(70_000, 0x41))).toThrow(/maximum allowed size/);
  });
});

describe('EHLO extensions', () => {
  it('reads what the transaction layer uses', () => {
    const ehlo = [
      '250-host Hello [127.0.0.1]',
      '250-SIZE 157286400',
      '250-PIPELINING',
      '250-8BITMIME',
      '250-BINARYMIME',
      '250-CHUNKING',
      '250 SMTPUTF8',
    ].join('\n');
    expect(parseEhloExtensions(ehlo)).toEqual({
      pipelining: true,
      chunking: true,
      binaryMime: true,
      eightBitMime: true,
      smtpUtf8: true,
      maxSize: 157286400,
    });
    expect(parseEhloExtensions('250 host Hello')).toMatchObject({
      pipelining: false,
      chunking: false,
      maxSize: undefined,
    });
  });
});

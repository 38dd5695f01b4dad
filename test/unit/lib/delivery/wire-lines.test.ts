/**
 * What goes on the wire keeps SMTP's 998-octet line limit (RFC 5321 4.5.3.1.6) for every message
 * the contract accepts, at the edges of every field, and still reads back as the producer wrote it.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { attachmentType, composeMail, foldable } from '../../../../lib/delivery/compose-mail.ts';
import { composeMime } from '../../../../lib/delivery/compose-mime.ts';
import { parseMailMessage } from '../../../../lib/message/parse-mail-message.ts';

const SENDER = 'mailer@contoso.com';

async function wire(input: Record<string, unknown>) {
  const composed = await composeMail(parseMailMessage(input), { sender: SENDER, mailId: 'w-1' });
  if (composed.kind !== 'composed') throw new Error(composed.reason);
  return (await composeMime(composed.mail)).raw;
}

/** Lengths of the lines over 998 octets (CRLF not counted). */
function overLong(raw: Buffer): number[] {
  const lines: number[] = [];
  let start = 0;
  for (let i = raw.indexOf('\r\n'); i >= 0; i = raw.indexOf('\r\n', start)) {
    lines.push(i - start);
    start = i + 2;
  }
  lines.push(raw.length - start);
  return lines.filter((n) => n > 998);
}

/** An RFC 822 message that is not 7-bit: NUL, 8-bit bytes and a 5,000-octet line. */
const forwarded = Buffer.concat([
  Buffer.from('Subject: fwd\r\nFrom: a@example.com\r\n\r\n'),
  Buffer.from([0x00, 0xff, 0xe9, 0x0a]),
  Buffer.from('z'.repeat(5000)),
]);

const unbroken = 'a'.repeat(998);

describe('every line on the wire is at most 998 octets', () => {
  it.each([
    ['a 998-character subject without spaces', { subject: unbroken }],
    ['a 998-character X- header without spaces', { headers: { 'X-Long': unbroken } }],
    [
      'a 76-character header name with a 998-character value',
      { headers: { [`X-${'N'.repeat(74)}`]: `${'word '.repeat(20)}${'b'.repeat(890)}` } },
    ],
    ['a 998-character non-ASCII subject', { subject: 'é'.repeat(998) }],
    [
      '256-character display names without spaces, 500 recipients',
      {
        to: Array.from({ length: 500 }, (_, i) => ({
          name: 'N'.repeat(256),
          address: `r${i}@example.com`,
        })),
      },
    ],
    [
      'a 255-character file name',
      { attachments: [{ filename: `${'f'.repeat(251)}.txt`, content: 'aGk=' }] },
    ],
    ['body lines of 5,000 octets', { text: 'x'.repeat(5000), html: `<p>${'y'.repeat(5000)}</p>` }],
    [
      'an .eml attachment with NUL, 8-bit bytes and long lines',
      { attachments: [{ filename: 'forwarded.eml', content: forwarded.toString('base64') }] },
    ],
  ])('%s', async (_name, fields) => {
    const raw = await wire({ to: ['ann@example.com'], subject: 'Edge', text: 'hi', ...fields });
    expect(overLong(raw)).toEqual([]);
  });

  it('folds long unbroken subjects and headers as encoded-words that decode to the same text', async () => {
    const subject = `${'s'.repeat(500)} and ${'t'.repeat(400)}`;
    const raw = await wire({
      to: ['ann@example.com'],
      subject,
      text: 'hi',
      headers: { 'X-Long': unbroken, 'X-Short': 'as it is' },
    });
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(subject);
    const xLong = /^X-Long: (.*(?:\r\n[ \t].*)*)/m.exec(raw.toString())?.[1] ?? '';
    expect(decodeQWords(xLong)).toBe(unbroken);
    expect(raw.toString()).toMatch(/^X-Short: as it is$/m);
    expect(foldable('Quarterly report, week 47')).toBe('Quarterly report, week 47');
  });

  it('sends an .eml attachment as application/octet-stream in base64, content intact', async () => {
    const raw = await wire({
      to: ['ann@example.com'],
      subject: 'Edge',
      text: 'hi',
      attachments: [{ filename: 'forwarded.eml', content: forwarded.toString('base64') }],
    });
    const [attachment] = (await simpleParser(raw)).attachments;
    expect(attachment?.filename).toBe('forwarded.eml');
    expect(attachment?.content.equals(forwarded)).toBe(true);
    const text = raw.toString('latin1');
    expect(text).toMatch(
      /^Content-Type: application\/octet-stream; name=forwarded\.eml\r\nContent-Transfer-Encoding: base64$/m,
    );
    expect(text).not.toMatch(/Content-Type: message\//i);
    expect(attachmentType('page.mht', undefined)).toBe('application/octet-stream');
    expect(attachmentType('report.pdf', undefined)).toBe('application/pdf');
    expect(attachmentType('data.bin', 'text/csv')).toBe('text/csv');
  });
});

/** Decodes a folded run of RFC 2047 Q encoded-words (what mail clients do with such a header). */
function decodeQWords(value: string): string {
  return value
    .replace(/\r\n[ \t]/g, ' ')
    .split(' ')
    .map((word) => {
      const m = /^=\?UTF-8\?Q\?(.*)\?=$/i.exec(word);
      if (!m) throw new Error(`not an encoded-word: ${word}`);
      const bytes = m[1]!
        .replace(/_/g, ' ')
        .replace(/=([0-9A-F]{2})/gi, (_x, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        );
      return Buffer.from(bytes, 'latin1').toString('utf8');
    })
    .join('');
}

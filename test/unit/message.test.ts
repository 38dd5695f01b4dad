import { describe, expect, it } from 'vitest';
import { InvalidMailMessageError, MailQueueError } from '../../lib/errors.ts';
import { MAX_BODY_BYTES, MAX_RECIPIENTS } from '../../lib/message/mail-message-limits.ts';
import {
  parseMailMessage,
  parseMailMessageJson,
  safeParseMailMessage,
} from '../../lib/message/parse-mail-message.ts';
import type { MailMessage } from '../../lib/types.ts';

const base = { to: ['ana@example.com'], subject: 'Monthly report', text: 'Hello' };
const addresses = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);
const defaults = {
  version: 1 as const,
  cc: [],
  bcc: [],
  replyTo: [],
  attachments: [],
  headers: {},
  tags: {},
};

describe('parseMailMessage accepts valid messages and normalises them', () => {
  it.each<[string, Record<string, unknown>, Partial<MailMessage>]>([
    [
      'the smallest message, with defaults filled',
      base,
      {
        ...defaults,
        to: [{ address: 'ana@example.com' }],
        subject: 'Monthly report',
        text: 'Hello',
      },
    ],
    ['html without text', { ...base, text: undefined, html: '<p>Hi</p>' }, { html: '<p>Hi</p>' }],
    [
      'all three address forms',
      {
        ...base,
        to: [
          'Ana Lima <ana@example.com>',
          '"Lima, Ana" <ana.lima@example.com>',
          { name: 'Bo', address: 'bo@example.com' },
          { address: 'cy@example.com' },
          { name: '', address: 'di@example.com' },
          '<ed@example.com>',
        ],
      },
      {
        to: [
          { name: 'Ana Lima', address: 'ana@example.com' },
          { name: 'Lima, Ana', address: 'ana.lima@example.com' },
          { name: 'Bo', address: 'bo@example.com' },
          { address: 'cy@example.com' },
          { address: 'di@example.com' },
          { address: 'ed@example.com' },
        ],
      },
    ],
    [
      'unusual but valid addresses',
      {
        ...base,
        to: [
          "o'brien+reports@mail.example.co.uk",
          'ana@bücher.de',
          'ana@xn--bcher-kva.de',
          'x_y.z-1@sub-domain.example.museum',
        ],
      },
      {
        to: [
          { address: "o'brien+reports@mail.example.co.uk" },
          { address: 'ana@bücher.de' },
          { address: 'ana@xn--bcher-kva.de' },
          { address: 'x_y.z-1@sub-domain.example.museum' },
        ],
      },
    ],
    [
      'recipients only in bcc',
      { ...base, to: undefined, bcc: ['hidden@example.com'] },
      { to: [], bcc: [{ address: 'hidden@example.com' }] },
    ],
    [
      `exactly ${MAX_RECIPIENTS} recipients across to, cc and bcc`,
      { ...base, to: addresses(200, 't'), cc: addresses(200, 'c'), bcc: addresses(100, 'b') },
      {},
    ],
    [
      'from, replyTo, every optional field',
      {
        ...base,
        version: 1,
        id: 'invoice:2024-0001@billing_v2.eu',
        from: 'Billing <billing@example.com>',
        replyTo: ['support@example.com'],
        html: '<b>Hello</b>',
        attachments: [
          { filename: 'invoice.pdf', contentType: 'application/pdf', content: 'JVBERi0xLjQ=' },
          { filename: 'empty.txt', content: '' },
          { filename: 'big.zip', s3: { bucket: 'mail-attachments.eu', key: 'a/b/big.zip' } },
        ],
        headers: { 'X-Campaign': 'spring', 'x-trace-id': 'abc\t123' },
        priority: 'high',
        tags: { team: 'billing', 'job id': 'nightly-7' },
      },
      {
        id: 'invoice:2024-0001@billing_v2.eu',
        from: { name: 'Billing', address: 'billing@example.com' },
        replyTo: [{ address: 'support@example.com' }],
        priority: 'high',
        headers: { 'X-Campaign': 'spring', 'x-trace-id': 'abc\t123' },
      },
    ],
    [
      'a subject of 998 characters with unicode',
      { ...base, subject: `Grüße 📬 ${'x'.repeat(998 - 'Grüße 📬 '.length)}` },
      {},
    ],
  ])('%s', (_name, input, expected) => {
    const message = parseMailMessage(input);
    expect(message).toMatchObject(expected);
    // Parsing the normalised form again is a no-op: the consumer re-validates what producers send.
    expect(parseMailMessage(JSON.parse(JSON.stringify(message)))).toEqual(message);
  });
});

const hostile: [string, unknown, string][] = [
  ['not an object', 'hello', ''],
  ['null', null, ''],
  ['a list', [base], ''],
  ['version 2', { ...base, version: 2 }, 'version'],
  ['version as a string', { ...base, version: '1' }, 'version'],
  ['an unknown top-level field', { ...base, bodyHtml: '<p>' }, 'bodyHtml'],
  ['an empty id', { ...base, id: '' }, 'id'],
  ['an id with a space', { ...base, id: 'order 1' }, 'id'],
  ['an id of 129 characters', { ...base, id: 'a'.repeat(129) }, 'id'],
  ['no subject', { ...base, subject: undefined }, 'subject'],
  ['an empty subject', { ...base, subject: '' }, 'subject'],
  ['CR LF in the subject', { ...base, subject: 'Hi\r\nBcc: all@example.com' }, 'subject'],
  ['LF in the subject', { ...base, subject: 'Hi\nthere' }, 'subject'],
  ['a subject of 999 characters', { ...base, subject: 'x'.repeat(999) }, 'subject'],
  ['no recipients', { ...base, to: [] }, 'to'],
  ['no recipient fields at all', { subject: 's', text: 't' }, 'to'],
  [
    `${MAX_RECIPIENTS + 1} recipients in all`,
    { ...base, to: addresses(300, 't'), bcc: addresses(201, 'b') },
    'to',
  ],
  [`${MAX_RECIPIENTS + 1} in to`, { ...base, to: addresses(501, 't') }, 'to'],
  ['to as a single string', { ...base, to: 'ana@example.com' }, 'to'],
  ['an address without @', { ...base, to: ['ana'] }, 'to[0]'],
  ['an address without domain', { ...base, to: ['ana@'] }, 'to[0]'],
  ['an address without local part', { ...base, to: ['@example.com'] }, 'to[0]'],
  ['two @', { ...base, to: ['ana@bo@example.com'] }, 'to[0]'],
  ['a domain without a dot', { ...base, to: ['ana@localhost'] }, 'to[0]'],
  ['an IP literal', { ...base, to: ['ana@[127.0.0.1]'] }, 'to[0]'],
  ['a space in the address', { ...base, to: ['ana lima@example.com'] }, 'to[0]'],
  ['a quoted local part', { ...base, to: ['"ana lima"@example.com'] }, 'to[0]'],
  ['two dots in a row', { ...base, to: ['ana..lima@example.com'] }, 'to[0]'],
  ['a leading dot', { ...base, to: ['.ana@example.com'] }, 'to[0]'],
  ['a hyphen starting a label', { ...base, to: ['ana@-example.com'] }, 'to[0]'],
  ['an empty label', { ...base, to: ['ana@example..com'] }, 'to[0]'],
  ['a local part of 65 characters', { ...base, to: [`${'a'.repeat(65)}@example.com`] }, 'to[0]'],
  ['an unclosed bracket', { ...base, to: ['Ana <ana@example.com'] }, 'to[0]'],
  ['text after the bracket', { ...base, to: ['Ana <ana@example.com> x'] }, 'to[0]'],
  ['a bracket in the display name', { ...base, to: ['A <b> <ana@example.com>'] }, 'to[0]'],
  [
    'CR LF in a display name (string form)',
    { ...base, cc: ['Ana\r\nBcc: all@example.com <ana@example.com>'] },
    'cc[0]',
  ],
  [
    'CR LF in a display name (object form)',
    { ...base, to: [{ name: 'Ana\r\nBcc: x@example.com', address: 'ana@example.com' }] },
    'to[0].name',
  ],
  [
    'a bad address in object form',
    { ...base, to: [{ name: 'Ana', address: 'ana' }] },
    'to[0].address',
  ],
  ['an address of another type', { ...base, to: [42] }, 'to[0]'],
  ['a malformed from', { ...base, from: 'billing' }, 'from'],
  ['a malformed replyTo', { ...base, replyTo: ['support@'] }, 'replyTo[0]'],
  ['neither text nor html', { ...base, text: undefined }, 'text'],
  ['only an empty text', { ...base, text: '' }, 'text'],
  ['text of another type', { ...base, text: 42 }, 'text'],
  ['attachments not a list', { ...base, attachments: { filename: 'a' } }, 'attachments'],
  [
    'an attachment without filename',
    { ...base, attachments: [{ content: 'aGk=' }] },
    'attachments[0].filename',
  ],
  [
    'an attachment with a path as filename',
    { ...base, attachments: [{ filename: '../etc/passwd', content: 'aGk=' }] },
    'attachments[0].filename',
  ],
  [
    'an attachment without content or s3',
    { ...base, attachments: [{ filename: 'a.txt' }] },
    'attachments[0].content',
  ],
  [
    'invalid base64',
    { ...base, attachments: [{ filename: 'a.txt', content: 'not base64!' }] },
    'attachments[0].content',
  ],
  [
    'base64 without padding',
    { ...base, attachments: [{ filename: 'a.txt', content: 'aGk' }] },
    'attachments[0].content',
  ],
  [
    'line-wrapped base64',
    { ...base, attachments: [{ filename: 'a.txt', content: 'aGVs\r\nbG8=' }] },
    'attachments[0].content',
  ],
  [
    'an S3 attachment without key',
    { ...base, attachments: [{ filename: 'a.zip', s3: { bucket: 'my-bucket' } }] },
    'attachments[0].s3.key',
  ],
  [
    'both content and s3',
    {
      ...base,
      attachments: [{ filename: 'a', content: 'aGk=', s3: { bucket: 'my-bucket', key: 'k' } }],
    },
    'attachments[0].s3',
  ],
  [
    'a bad content type',
    { ...base, attachments: [{ filename: 'a', contentType: 'pdf', content: 'aGk=' }] },
    'attachments[0].contentType',
  ],
  ['a non-X header', { ...base, headers: { Bcc: 'all@example.com' } }, 'headers.Bcc'],
  ['a header named just X-', { ...base, headers: { 'X-': 'v' } }, 'headers.X-'],
  [
    'an Exchange-reserved header',
    { ...base, headers: { 'X-MS-Exchange-Organization-SCL': '-1' } },
    'headers.X-MS-Exchange-Organization-SCL',
  ],
  ['CR LF in a header name', { ...base, headers: { 'X-A\r\nBcc': 'v' } }, 'headers.X-A\r\nBcc'],
  ['LF in a header value', { ...base, headers: { 'X-Note': 'a\nBcc: b' } }, 'headers.X-Note'],
  ['a header value of another type', { ...base, headers: { 'X-Count': 3 } }, 'headers.X-Count'],
  ['an unknown priority', { ...base, priority: 'urgent' }, 'priority'],
  ['a tag value of another type', { ...base, tags: { team: 7 } }, 'tags.team'],
  ['LF in a tag value', { ...base, tags: { team: 'a\nb' } }, 'tags.team'],
  ['LF in a tag name', { ...base, tags: { 'team\nx': 'a' } }, 'tags.team\nx'],
  [
    'an encoded body over 1 MiB',
    {
      ...base,
      attachments: [{ filename: 'big.bin', content: 'A'.repeat(MAX_BODY_BYTES) }],
    },
    '',
  ],
];

describe('parseMailMessage rejects hostile messages, naming the field', () => {
  it.each(hostile)('%s', (_name, input, path) => {
    let thrown: unknown;
    try {
      parseMailMessage(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidMailMessageError);
    const { issues } = thrown as InvalidMailMessageError;
    expect(issues.map((i) => i.path)).toContain(path);
    for (const issue of issues) {
      expect(issue.message.startsWith(issue.path || 'the message')).toBe(true);
      expect(issue.message).not.toMatch(/^.*Invalid input/);
    }
  });
});

describe('InvalidMailMessageError', () => {
  it('lists every problem at once, in plain words', () => {
    const result = safeParseMailMessage({ subject: 'a\nb', extra: 1, to: ['bob'] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      {
        path: 'to[0]',
        message: expect.stringMatching(/^to\[0\] is not a valid email address: "bob" has no "@"/),
      },
      { path: 'subject', message: expect.stringContaining('line breaks') },
      { path: 'extra', message: expect.stringContaining('remove it') },
      { path: 'text', message: expect.stringContaining('"text", "html"') },
    ]);
    const error = new InvalidMailMessageError(result.issues);
    expect(error).toBeInstanceOf(MailQueueError);
    expect(error.name).toBe('InvalidMailMessageError');
    expect(error.message).toMatch(/^Invalid mail message \(4 problems\): to\[0\] is not/);
  });
});

describe('parseMailMessageJson', () => {
  it('accepts a JSON body', () => {
    expect(parseMailMessageJson(JSON.stringify(base))).toEqual({
      ok: true,
      message: parseMailMessage(base),
    });
  });

  it('says when the body is not JSON', () => {
    expect(parseMailMessageJson('{"to": [')).toEqual({
      ok: false,
      issues: [{ path: '', message: expect.stringContaining('not JSON') }],
    });
  });

  it('rejects a body over 1 MiB by its UTF-8 size, before parsing', () => {
    // 600k two-byte characters: under 1 Mi characters, over 1 MiB of UTF-8.
    const body = JSON.stringify({ ...base, text: 'é'.repeat(600_000) });
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(parseMailMessageJson(body)).toEqual({
      ok: false,
      issues: [{ path: '', message: expect.stringContaining(`limit is ${MAX_BODY_BYTES}`) }],
    });
  });

  it('reports a missing body instead of throwing', () => {
    expect(parseMailMessageJson(undefined as unknown as string)).toMatchObject({
      ok: false,
      issues: [{ path: '' }],
    });
  });

  it('validates the parsed body against the contract', () => {
    const result = parseMailMessageJson(JSON.stringify({ ...base, priority: 'urgent' }));
    expect(result).toMatchObject({ ok: false, issues: [{ path: 'priority' }] });
  });
});

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
  // RFC 2047 encoded-words decode at the recipient into other text (here ../../etc/passwd).
  [
    'an encoded-word subject',
    { ...base, subject: 'Invoice =?UTF-8?B?Li4vLi4vZXRjL3Bhc3N3ZA==?=' },
    'subject',
  ],
  [
    'an encoded-word file name',
    {
      ...base,
      attachments: [{ filename: '=?UTF-8?B?Li4vLi4vZXRjL3Bhc3N3ZA==?=', content: 'aGk=' }],
    },
    'attachments[0].filename',
  ],
  [
    'an encoded-word display name in a string address',
    { ...base, to: ['=?utf-8?q?Boss=0D=0ABcc=3A_x=40evil=2Eexample?= <ann@example.com>'] },
    'to[0]',
  ],
  [
    'an encoded-word display name in an object address',
    { ...base, cc: [{ name: '=?UTF-8?Q?CEO?=', address: 'ann@example.com' }] },
    'cc[0].name',
  ],
  [
    'an encoded-word header value',
    { ...base, headers: { 'X-Note': '=?utf-8?b?SGk=?=' } },
    'headers.X-Note',
  ],
  [
    'a multipart attachment type',
    { ...base, attachments: [{ filename: 'a', contentType: 'multipart/mixed', content: 'aGk=' }] },
    'attachments[0].contentType',
  ],
  [
    'a message/rfc822 attachment type, in any case',
    {
      ...base,
      attachments: [{ filename: 'fwd.eml', contentType: 'Message/RFC822', content: 'aGk=' }],
    },
    'attachments[0].contentType',
  ],
  [
    'a content type with an encoded-word parameter',
    {
      ...base,
      attachments: [
        { filename: 'a', contentType: 'text/plain; name="=?utf-8?q?x?="', content: 'aGk=' },
      ],
    },
    'attachments[0].contentType',
  ],
  [
    'a content type with parameters longer than a header line',
    {
      ...base,
      attachments: [
        { filename: 'a', contentType: `text/plain; x=${'y'.repeat(1000)}`, content: 'aGk=' },
      ],
    },
    'attachments[0].contentType',
  ],
  // C1 controls (U+0085 NEL among them), U+2028 and U+2029 in every header field.
  ...['\u0085', '\u009B', '\u2028', '\u2029'].flatMap((ch): [string, unknown, string][] => {
    const name = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return [
      [`${name} in the subject`, { ...base, subject: `a${ch}b` }, 'subject'],
      [`${name} in a display name`, { ...base, to: [`Ann${ch}B <ann@example.com>`] }, 'to[0]'],
      [
        `${name} in an object name`,
        { ...base, replyTo: [{ name: `A${ch}`, address: 'a@example.com' }] },
        'replyTo[0].name',
      ],
      [
        `${name} in a header value`,
        { ...base, headers: { 'X-Note': `a${ch}b` } },
        'headers.X-Note',
      ],
      [
        `${name} in a file name`,
        { ...base, attachments: [{ filename: `a${ch}.txt`, content: 'aGk=' }] },
        'attachments[0].filename',
      ],
      [
        `${name} in content type parameters`,
        {
          ...base,
          attachments: [{ filename: 'a', contentType: `text/plain; x=${ch}`, content: 'aGk=' }],
        },
        'attachments[0].contentType',
      ],
    ];
  }),
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

describe('encoded-words and line separators: the error names the field and the fix', () => {
  it.each([
    [
      { ...base, subject: '=?UTF-8?B?SGk=?=' },
      /^subject must not contain RFC 2047 encoded-word syntax.*write the text itself/,
    ],
    [
      { ...base, to: ['=?UTF-8?B?SGk=?= <ann@example.com>'] },
      /^to\[0\] is not a valid email address: .* encoded-word syntax .* write the name itself/,
    ],
    [{ ...base, subject: 'a\u2028b' }, /^subject must be one line: .*U\+2028/],
    [
      {
        ...base,
        attachments: [{ filename: 'f.eml', contentType: 'message/rfc822', content: 'aGk=' }],
      },
      /^attachments\[0\]\.contentType cannot be multipart\/\* or message\/\* .*"application\/octet-stream"/,
    ],
  ])('%#', (input, wording) => {
    const result = safeParseMailMessage(input);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.message)).toEqual([
      expect.stringMatching(wording),
    ]);
  });

  it('still accepts ordinary text that merely has "=?" in it, and non-ASCII names', () => {
    expect(safeParseMailMessage({ ...base, subject: 'Is 2+2=? Yes: 4 (=?)' }).ok).toBe(true);
    expect(safeParseMailMessage({ ...base, to: ['Zoë Ünal <zoe@example.com>'] }).ok).toBe(true);
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

/**
 * Properties of the contract: whatever arrives, `parseMailMessage` either returns a message that
 * keeps every promise of the contract or throws `InvalidMailMessageError` — never anything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidMailMessageError } from '../../lib/errors.ts';
import { ADDRESS_PATTERN } from '../../lib/message/mail-address.ts';
import { MAX_BODY_BYTES, MAX_RECIPIENTS } from '../../lib/message/mail-message-limits.ts';
import { parseMailMessage, parseMailMessageJson } from '../../lib/message/parse-mail-message.ts';
import type { MailAddress, MailMessage } from '../../lib/types.ts';

const LINE_BREAK = /[\r\n]/;

/** Tab allowed; no other C0 control character or DEL (what the contract demands of a subject). */
function isOneLine(text: string): boolean {
  return [...text].every((c) => c === '\t' || (c >= ' ' && c !== '\u007f'));
}

/** The promises an accepted message keeps, whatever the input was. */
function expectContractKept(message: MailMessage): void {
  expect(message.version).toBe(1);
  const recipients = message.to.length + message.cc.length + message.bcc.length;
  expect(recipients).toBeGreaterThan(0);
  expect(recipients).toBeLessThanOrEqual(MAX_RECIPIENTS);
  expect(LINE_BREAK.test(message.subject)).toBe(false);
  expect(Boolean(message.text) || Boolean(message.html)).toBe(true);
  const all: MailAddress[] = [...message.to, ...message.cc, ...message.bcc, ...message.replyTo];
  if (message.from) all.push(message.from);
  for (const { name, address } of all) {
    expect(address).toMatch(ADDRESS_PATTERN);
    expect(LINE_BREAK.test(name ?? '')).toBe(false);
  }
  for (const [name, value] of Object.entries(message.headers)) {
    expect(name).toMatch(/^X-/i);
    expect(LINE_BREAK.test(name + value)).toBe(false);
  }
  expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(MAX_BODY_BYTES);
  // The producer sends the normalised form; the consumer must read the same message back.
  expect(parseMailMessage(JSON.parse(JSON.stringify(message)))).toEqual(message);
}

/** Returns the message, or `undefined` after checking the only permitted failure. */
function parseOrExplain(input: unknown): MailMessage | undefined {
  try {
    return parseMailMessage(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMailMessageError);
    const { issues } = error as InvalidMailMessageError;
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message.length).toBeGreaterThan(10);
    }
    return undefined;
  }
}

/** Addresses within the limits (fast-check's may exceed the 254-character SMTP path limit). */
const email = fc.emailAddress().filter((a) => a.length <= 254);
const address = fc.oneof(
  email,
  fc.tuple(fc.string({ maxLength: 20 }), email).map(([name, addr]) => ({ name, address: addr })),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z .,'-]{0,20}$/), email)
    .map(([name, addr]) => `${name} <${addr}>`),
);
const base64 = fc
  .uint8Array({ maxLength: 64 })
  .map((bytes) => Buffer.from(bytes).toString('base64'));

/** Messages built within the rules (property "valid" below checks that the schema agrees). */
const validMessage = fc.record(
  {
    version: fc.constant(1),
    id: fc.stringMatching(/^[A-Za-z0-9._:@-]{1,40}$/),
    from: address,
    to: fc.array(address, { minLength: 1, maxLength: 5 }),
    cc: fc.array(address, { maxLength: 3 }),
    bcc: fc.array(address, { maxLength: 3 }),
    replyTo: fc.array(address, { maxLength: 2 }),
    subject: fc.string({ minLength: 1, maxLength: 60 }).filter(isOneLine),
    text: fc.string({ minLength: 1 }),
    html: fc.string(),
    attachments: fc.array(
      fc.oneof(
        fc.record({ filename: fc.constantFrom('a.pdf', 'report.csv'), content: base64 }),
        fc.record({
          filename: fc.constant('big.zip'),
          s3: fc.record({ bucket: fc.constant('mail-bucket'), key: fc.string({ minLength: 1 }) }),
        }),
      ),
      { maxLength: 2 },
    ),
    headers: fc.dictionary(
      fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/),
      fc.stringMatching(/^[ -~]{0,20}$/),
    ),
    priority: fc.constantFrom('high', 'normal', 'low'),
    tags: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[ -~]{0,20}$/)),
  },
  { requiredKeys: ['to', 'subject', 'text'] },
);

/** Every path to a value inside `node`, e.g. `['to', 0, 'address']`. */
function pathsOf(node: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof node !== 'object' || node === null) return [prefix];
  const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  return [
    prefix,
    ...keys.flatMap((k) => pathsOf((node as Record<string, unknown>)[k], [...prefix, k])),
  ];
}

type Mutation = 'replace' | 'delete' | 'inject' | 'add-key';
const hostileString = fc.constantFrom(
  '\r\nBcc: victim@example.com',
  '\n',
  '\u0000',
  'no-at-sign',
  'a@b',
  '"quoted"@example.com',
  '<>',
  '=?utf-8?B?',
  '__proto__',
  'A'.repeat(2000),
);

function mutate(
  message: Record<string, unknown>,
  pick: number,
  kind: Mutation,
  value: unknown,
  text: string,
): unknown {
  const copy = structuredClone(message);
  const paths = pathsOf(copy);
  const path = paths[pick % paths.length] ?? [];
  if (path.length === 0) return kind === 'replace' ? value : { ...copy, [text]: value };
  const parent = path.slice(0, -1).reduce<Record<string, unknown>>((n, k) => n[k] as never, copy);
  const key = path[path.length - 1] as string;
  if (kind === 'replace') parent[key] = value;
  else if (kind === 'delete') delete parent[key];
  else if (kind === 'add-key' && Array.isArray(parent)) parent.push(value);
  else if (kind === 'add-key') parent[text] = value;
  else parent[key] = typeof parent[key] === 'string' ? `${parent[key]}${text}` : text;
  return copy;
}

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

describe('parseMailMessage properties', () => {
  it('on arbitrary input returns a message keeping the contract or throws InvalidMailMessageError', () => {
    fc.assert(
      fc.property(anything, (input) => {
        const message = parseOrExplain(input);
        if (message) expectContractKept(message);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every message built within the rules, and keeps the contract', () => {
    fc.assert(
      fc.property(validMessage, (input) => {
        expectContractKept(parseMailMessage(input));
      }),
      { numRuns: 300 },
    );
  });

  it('on mutated near-valid messages only ever returns a valid message or throws InvalidMailMessageError', () => {
    fc.assert(
      fc.property(
        validMessage,
        fc.nat(),
        fc.constantFrom<Mutation>('replace', 'delete', 'inject', 'add-key'),
        fc.oneof(anything, hostileString),
        fc.oneof(hostileString, fc.string()),
        (message, pick, kind, value, text) => {
          const result = parseOrExplain(mutate(message, pick, kind, value, text));
          if (result) expectContractKept(result);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('parseMailMessageJson never throws, whatever the body', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          validMessage.map((m) => JSON.stringify(m)),
        ),
        (body) => {
          const result = parseMailMessageJson(body);
          if (result.ok) expectContractKept(result.message);
          else expect(result.issues.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

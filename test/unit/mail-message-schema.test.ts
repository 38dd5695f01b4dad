import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildMailMessageJsonSchema,
  renderMailMessageJsonSchema,
} from '../../lib/message/mail-message-json-schema.ts';

const committedPath = new URL('../../lib/message/mail-message.schema.json', import.meta.url);

/** Every `pattern` in the document, with where it sits. */
function patterns(node: unknown, at = '#'): [string, string][] {
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'pattern' && typeof value === 'string'
      ? [[`${at}/pattern`, value] as [string, string]]
      : patterns(value, `${at}/${key}`),
  );
}

describe('lib/message/mail-message.schema.json', () => {
  it('is up to date with the zod schema', () => {
    const committed = readFileSync(committedPath, 'utf8');
    const fresh = renderMailMessageJsonSchema();
    expect(
      committed === fresh,
      'lib/message/mail-message.schema.json is stale: run npm run schema and commit the result',
    ).toBe(true);
  });

  it('describes the strict top level, the required subject and one shared address definition', () => {
    const schema = buildMailMessageJsonSchema() as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, { items?: { $ref?: string } }>;
      $defs: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['subject']);
    expect(schema.properties.to?.items?.$ref).toBe('#/$defs/MailAddress');
    expect(Object.keys(schema.$defs)).toEqual(['MailAddress']);
  });

  it('uses only patterns that compile as unicode ECMAScript regexes, as JSON Schema validators need', () => {
    const found = patterns(buildMailMessageJsonSchema());
    expect(found.length).toBeGreaterThan(5);
    for (const [where, source] of found) {
      expect(() => new RegExp(source, 'u'), where).not.toThrow();
    }
  });

  it('gives other languages the same address rule as parseMailMessage', () => {
    const schema = buildMailMessageJsonSchema() as {
      $defs: { MailAddress: { anyOf: { pattern?: string }[] } };
    };
    const stringForm = new RegExp(schema.$defs.MailAddress.anyOf[0]?.pattern ?? '', 'u');
    expect(stringForm.test('Ana Lima <ana@example.com>')).toBe(true);
    expect(stringForm.test('ana@bücher.de')).toBe(true);
    expect(stringForm.test('ana@localhost')).toBe(false);
    expect(stringForm.test('Ana\r\nBcc: x@example.com <ana@example.com>')).toBe(false);
  });

  it('refuses encoded-words, C1 controls and line separators in other languages too', () => {
    const schema = buildMailMessageJsonSchema() as {
      properties: { subject: unknown };
      $defs: { MailAddress: { anyOf: { pattern?: string }[] } };
    };
    const subject = patterns(schema.properties.subject).map(([, p]) => new RegExp(p, 'u'));
    const accepts = (value: string) => subject.every((p) => p.test(value));
    expect(accepts('Invoice 42 — ünïcode, and 2+2=?')).toBe(true);
    for (const bad of ['=?UTF-8?B?Li4vZXRj?=', 'a\u0085b', 'a\u2028b', 'a\u2029b', 'a\u009Bb']) {
      expect(accepts(bad), JSON.stringify(bad)).toBe(false);
    }
    const address = new RegExp(schema.$defs.MailAddress.anyOf[0]?.pattern ?? '', 'u');
    expect(address.test('=?UTF-8?Q?CEO?= <ana@example.com>')).toBe(false);
    expect(address.test('Ana\u0085 <ana@example.com>')).toBe(false);
  });
});

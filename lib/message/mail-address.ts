/**
 * Email addresses in the message contract: `"user@example.com"`, `"Name <user@example.com>"` or
 * `{ name, address }`, normalised to `{ name?, address }`.
 *
 * Hand-written rather than zod's `email()` because we need two things it does not give: the
 * `Name <addr>` form, and a conservative rule set we can state in docs/messages.md and emit as
 * a JSON Schema `pattern` (so producers in other languages reject the same strings). The regexes
 * below are the single source of truth; `explainAddressProblem` only chooses the words for a
 * rejection.
 */
import * as z from 'zod/mini';
import type { MailAddress } from '../types.ts';
import {
  ENCODED_WORD_FIX,
  ENCODED_WORD_PATTERN,
  HEADER_CONTROLS,
  NO_ENCODED_WORD,
  NO_ENCODED_WORD_PATTERN,
} from './header-text.ts';
import { MAX_ADDRESS_LENGTH, MAX_DISPLAY_NAME_LENGTH } from './mail-message-limits.ts';

/** RFC 5322 `atext`: the local part is a dot-atom of these (no quoted strings, no comments). */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const LOCAL_PART = `${ATEXT}+(?:\\.${ATEXT}+)*`;
/**
 * Non-ASCII characters allowed in IDN domain labels: letters of the BMP, leaving out controls,
 * spaces (U+1680, U+2000-U+206F, U+3000 incl. zero-width and bidi controls), surrogates, private use,
 * non-characters and the BOM. Nodemailer turns such domains into punycode when sending.
 */
const IDN =
  '\\u00A1-\\u167F\\u1681-\\u1FFF\\u2070-\\u2FFF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFEFE';
const LABEL_CHAR = `A-Za-z0-9${IDN}`;
const LABEL = `[${LABEL_CHAR}](?:[${LABEL_CHAR}-]{0,61}[${LABEL_CHAR}])?`;
const TLD = `(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59}|[${IDN}]{2,63})`;
/** At least two labels: `user@localhost` or `user@[10.0.0.1]` is never what a producer meant. */
const DOMAIN = `(?:${LABEL}\\.)+${TLD}`;
/** The lookaheads bound the local part (64) and the domain (253); `>?$` lets it end a `<...>`. */
const ADDRESS = `(?=[^@]{1,64}@)${LOCAL_PART}@(?=[^@<>]{1,253}>?$)${DOMAIN}`;
/** Display names: no line breaks or control characters (header injection), no encoded-words. */
const NAME_CHARS = `[^${HEADER_CONTROLS}]`;
const BRACKET_NAME_CHARS = `[^<>${HEADER_CONTROLS}]`;

/** A bare address, e.g. `user@example.com`. */
export const ADDRESS_PATTERN = new RegExp(`^${ADDRESS}$`);
/** A bare address or `Display Name <user@example.com>`. */
export const ADDRESS_STRING_PATTERN = new RegExp(
  `^(?:${ADDRESS}|${NO_ENCODED_WORD}${BRACKET_NAME_CHARS}{0,${MAX_DISPLAY_NAME_LENGTH}}<${ADDRESS}>)$`,
);
const DISPLAY_NAME_PATTERN = new RegExp(`^${NAME_CHARS}*$`);

const FORMS =
  'write "user@example.com", "Name <user@example.com>" or {"name": ..., "address": ...}';

/** Says in plain words why `input` (a string that failed the patterns) is not an address. */
export function explainAddressProblem(input: string): string {
  const shown = JSON.stringify(input.length > 80 ? `${input.slice(0, 80)}…` : input);
  const open = input.lastIndexOf('<');
  const address = open >= 0 ? input.slice(open + 1).replace(/>$/, '') : input;
  return `is not a valid email address: ${shown} ${addressFault(input, address)}; ${FORMS}`;
}

function addressFault(whole: string, address: string): string {
  if (/[\r\n]/.test(whole)) return 'contains a line break (CR or LF)';
  if (new RegExp(NAME_CHARS.replace('[^', '[')).test(whole)) {
    return 'contains a control character or line separator (C0, C1 such as U+0085, U+2028, U+2029)';
  }
  if (ENCODED_WORD_PATTERN.test(whole)) {
    return 'has RFC 2047 encoded-word syntax ("=?charset?B?...?=") in the display name, which mail clients would decode into other text; write the name itself (non-ASCII is fine)';
  }
  if (whole.includes('<') && !/>$/.test(whole)) return 'has a "<" without a closing ">" at the end';
  if (/[<>]/.test(whole.slice(0, whole.lastIndexOf('<')))) {
    return 'has "<" or ">" in the display name (use {"name": ..., "address": ...} for such a name)';
  }
  if (address.startsWith('"')) return 'has a quoted local part, which this sender does not accept';
  if (/\s/.test(address)) return 'contains a space';
  const at = address.split('@').length - 1;
  if (at === 0) return 'has no "@"';
  if (at > 1) return 'has more than one "@"';
  const [local = '', domain = ''] = address.split('@');
  if (local.length === 0) return 'has nothing before the "@"';
  if (local.length > 64) return 'has a local part (before "@") longer than 64 characters';
  if (/^\.|\.$|\.\./.test(local))
    return 'has a dot at the start or end of the local part, or two in a row';
  if (!new RegExp(`^${LOCAL_PART}$`).test(local))
    return 'has a character not allowed before the "@"';
  if (domain.length === 0) return 'has nothing after the "@"';
  if (!domain.includes('.'))
    return 'has a domain without a dot (use a full domain like example.com)';
  if (domain.length > 253) return 'has a domain longer than 253 characters';
  return 'has a malformed domain (labels of letters, digits and inner hyphens, separated by dots)';
}

const addressString = z.string().check(
  z.regex(ADDRESS_STRING_PATTERN, {
    error: (issue) => explainAddressProblem(String(issue.input)),
  }),
);

const addressObject = z.strictObject({
  name: z.optional(
    z.string().check(
      z.maxLength(MAX_DISPLAY_NAME_LENGTH, {
        error: `is too long: at most ${MAX_DISPLAY_NAME_LENGTH} characters`,
      }),
      z.regex(NO_ENCODED_WORD_PATTERN, { error: ENCODED_WORD_FIX }),
      z.regex(DISPLAY_NAME_PATTERN, {
        error:
          'must not contain line breaks (CR, LF, U+2028, U+2029, U+0085) or control characters',
      }),
    ),
  ),
  address: z
    .string()
    .check(
      z.regex(ADDRESS_PATTERN, { error: (issue) => explainAddressProblem(String(issue.input)) }),
    ),
});

/** Turns the `Name <addr>` form into `{ name, address }`; unquotes `"Doe, John"`. */
export function splitAddressString(input: string): MailAddress {
  const open = input.lastIndexOf('<');
  if (open < 0) return { address: input };
  const address = input.slice(open + 1, -1);
  let name = input.slice(0, open).trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    name = name.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  return name ? { name, address } : { address };
}

function normalise(input: string | { name?: string | undefined; address: string }): MailAddress {
  if (typeof input === 'string') return splitAddressString(input);
  return input.name ? { name: input.name, address: input.address } : { address: input.address };
}

/** One address in any accepted form, normalised to `{ name?, address }`. */
export const mailAddressSchema = z.pipe(
  z.union([addressString, addressObject], {
    error: `must be an email address: ${FORMS}`,
  }),
  z.transform((input, ctx): MailAddress => {
    const address = normalise(input);
    if (address.address.length > MAX_ADDRESS_LENGTH) {
      ctx.issues.push({
        code: 'custom',
        input,
        message: `is too long: an address has at most ${MAX_ADDRESS_LENGTH} characters`,
      });
    }
    return address;
  }),
);

/**
 * Parsers for single configuration values. Each returns the value or a problem sentence that names
 * the variable and says how to fix it; `loadSenderConfig` collects the problems so a user sees all
 * of them at once, not one per deploy.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { ADDRESS_PATTERN } from '../message/mail-address.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (problem: string): Parsed<never> => ({ ok: false, problem });

const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_PATTERN = new RegExp(`^(?=.{1,253}$)${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);
/** Tenant GUID or domain; emulators use short ids like `test-tenant`. */
const TENANT_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/;
const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Multi-tenant aliases: client credentials need the one tenant the app's mailbox lives in. */
const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

/** An absolute http(s) URL (SQS queue URLs; `http` for local emulators). */
export function parseQueueUrl(name: string, raw: string): Parsed<string> {
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:' || url.protocol === 'http:') return ok(raw);
  } catch {
    // fall through to the problem below
  }
  return fail(
    `${name} must be a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/mail (got ${JSON.stringify(raw)}).`,
  );
}

/** A host name or IP address, without scheme or port. */
export function parseHost(name: string, raw: string): Parsed<string> {
  const host = raw.trim();
  if (isIP(host) || HOST_PATTERN.test(host)) return ok(host.toLowerCase());
  return fail(
    `${name} must be a host name such as smtp.office365.com, without scheme or port (got ${JSON.stringify(raw)}).`,
  );
}

export function parsePort(name: string, raw: string): Parsed<number> {
  const port = Number(raw);
  if (/^\d+$/.test(raw.trim()) && port >= 1 && port <= 65535) return ok(port);
  return fail(
    `${name} must be a port number from 1 to 65535, e.g. 587 (got ${JSON.stringify(raw)}).`,
  );
}

/** A positive number of milliseconds. */
export function parseMillis(name: string, raw: string): Parsed<number> {
  const ms = Number(raw);
  if (/^\d+$/.test(raw.trim()) && ms >= 100 && ms <= 900_000) return ok(ms);
  return fail(`${name} must be milliseconds between 100 and 900000 (got ${JSON.stringify(raw)}).`);
}

/** An ISO 8601 date or date-time (`MAIL_CREDENTIAL_EXPIRES_AT`, `expiresAt` in the secret). */
export function parseExpiry(name: string, raw: string): Parsed<Date> {
  const text = raw.trim();
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? new Date(text)
    : undefined;
  if (date && Number.isFinite(date.getTime())) return ok(date);
  return fail(
    `${name} must be the date the credential expires, like 2027-03-31 or 2027-03-31T12:00:00Z (got ${JSON.stringify(raw.slice(0, 40))}).`,
  );
}

/** Whole seconds from 0 to 3600 (`SMTP_KEEPALIVE_SECONDS`). */
export function parseKeepAliveSeconds(name: string, raw: string): Parsed<number> {
  const seconds = Number(raw.trim());
  if (/^\d+$/.test(raw.trim()) && seconds <= 3_600) return ok(seconds);
  return fail(
    `${name} must be whole seconds from 0 to 3600: how long a warm sender keeps its idle SMTP session for the next batch (0 = QUIT after every batch; default 60) (got ${JSON.stringify(raw)}).`,
  );
}

export function parseEnum<T extends string>(
  name: string,
  raw: string,
  allowed: readonly T[],
): Parsed<T> {
  const value = raw.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(value)) return ok(value as T);
  return fail(`${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)}).`);
}

export function parseAddress(name: string, raw: string): Parsed<string> {
  const address = raw.trim();
  if (ADDRESS_PATTERN.test(address)) return ok(address.toLowerCase());
  return fail(
    `${name} must be a bare mailbox address such as noreply@contoso.com (got ${JSON.stringify(raw)}).`,
  );
}

/** Comma list of addresses or `@domain` entries, lower-cased. */
export function parseAllowedFrom(name: string, raw: string): Parsed<string[]> {
  const entries = raw
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const bad = entries.filter((e) => !ADDRESS_PATTERN.test(e.startsWith('@') ? `x${e}` : e));
  if (entries.length > 0 && bad.length === 0) return ok(entries);
  const shown = bad.length ? ` (not valid: ${bad.map((b) => JSON.stringify(b)).join(', ')})` : '';
  return fail(
    `${name} must be a comma list of addresses or @domain entries, e.g. "noreply@contoso.com,@alerts.contoso.com"${shown}.`,
  );
}

export function parseTenantId(name: string, raw: string): Parsed<string> {
  const tenant = raw.trim();
  if (TENANT_ALIASES.has(tenant.toLowerCase())) {
    return fail(
      `${name} must be your tenant's id (Directory (tenant) ID) or primary domain; "${tenant}" only works for sign-in by users, not for app-only tokens.`,
    );
  }
  if (TENANT_PATTERN.test(tenant)) return ok(tenant);
  return fail(
    `${name} must be the Directory (tenant) ID GUID or the tenant's domain, e.g. contoso.onmicrosoft.com (got ${JSON.stringify(raw)}).`,
  );
}

export function parseClientId(name: string, raw: string): Parsed<string> {
  const id = raw.trim();
  if (CLIENT_ID_PATTERN.test(id)) return ok(id);
  return fail(
    `${name} must be the app registration's Application (client) ID (got ${JSON.stringify(raw)}).`,
  );
}

/** The authority host as an origin (`https://login.microsoftonline.com`); MSAL only talks https. */
export function parseAuthorityHost(name: string, raw: string): Parsed<string> {
  try {
    const url = new URL(raw.trim());
    if (url.protocol === 'https:' && (url.pathname === '/' || url.pathname === '') && !url.search) {
      return ok(url.origin);
    }
  } catch {
    // fall through
  }
  return fail(
    `${name} must be an https origin without path, e.g. https://login.microsoftonline.com or https://login.microsoftonline.us (got ${JSON.stringify(raw)}).`,
  );
}

export function parseScope(name: string, raw: string): Parsed<string> {
  const scope = raw.trim();
  if (/^\S+\/\.default$/.test(scope)) return ok(scope);
  return fail(
    `${name} must end in /.default for app-only tokens, e.g. https://outlook.office365.com/.default (got ${JSON.stringify(raw)}).`,
  );
}

/** PEM from an environment variable: accepts `\n` escapes, as env files and consoles often store them. */
export function normalisePem(raw: string): string {
  return raw.includes('\\n') ? raw.replace(/\\n/g, '\n') : raw;
}

export function parseCertificatePem(name: string, raw: string): Parsed<string> {
  const pem = normalisePem(raw).trim();
  try {
    new X509Certificate(pem);
    return ok(pem);
  } catch {
    return fail(
      `${name} must be a PEM certificate (-----BEGIN CERTIFICATE-----…); it could not be read.`,
    );
  }
}

/** The key is checked for readability only; its value never appears in a problem. */
export function parsePrivateKeyPem(name: string, raw: string): Parsed<string> {
  const pem = normalisePem(raw).trim();
  try {
    createPrivateKey(pem);
    return ok(pem);
  } catch {
    return fail(
      `${name} must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----…); it could not be read.`,
    );
  }
}

/** `localhost`, `*.localhost`, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h)
  );
}

/** `true`/`false` (also `yes`/`no`, `1`/`0`), case-insensitive. */
export function parseBoolean(name: string, raw: string): Parsed<boolean> {
  const value = raw.trim().toLowerCase();
  if (['true', 'yes', '1'].includes(value)) return ok(true);
  if (['false', 'no', '0'].includes(value)) return ok(false);
  return fail(`${name} must be true or false (got ${JSON.stringify(raw)}).`);
}

/**
 * The Microsoft Graph host as an https origin; a bare host name (`graph.microsoft.us`) is taken as
 * `https://<host>`. Graph is only served over https.
 */
export function parseGraphEndpoint(name: string, raw: string): Parsed<string> {
  const trimmed = raw.trim().replace(/\/+$/, '');
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  try {
    const url = new URL(candidate);
    if (url.protocol === 'https:' && url.pathname === '/' && !url.search && !url.username) {
      return ok(url.origin);
    }
  } catch {
    // fall through
  }
  return fail(
    `${name} must be the https origin of Microsoft Graph without a path, e.g. https://graph.microsoft.com, or https://graph.microsoft.us, https://dod-graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn for sovereign clouds (got ${JSON.stringify(raw)}).`,
  );
}

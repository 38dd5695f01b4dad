/**
 * The sender's configuration, read from environment variables (SPEC "Configuration of the sender")
 * and validated in one place. Every problem is collected, each naming its variable and the fix,
 * so a broken deploy is fixed in one go. Secrets from `MAIL_SECRET_ARN` are merged in before this
 * runs (see `loadSenderConfigWithSecrets` in `secrets.ts`).
 */
import { ConfigReader, type Env } from './config-reader.ts';
import {
  isLoopbackHost,
  parseAddress,
  parseAllowedFrom,
  parseAuthorityHost,
  parseCertificatePem,
  parseClientId,
  parseEnum,
  parseExpiry,
  parseHost,
  parseKeepAliveSeconds,
  parseMillis,
  parsePort,
  parsePrivateKeyPem,
  parseQueueUrl,
  parseScope,
  parseTenantId,
} from './config-values.ts';
import {
  checkDoor,
  type GraphSettings,
  graphScope,
  hveHost,
  type MailTransport,
  readGraph,
  readSmtpEndpoint,
  readTransport,
  type SmtpEndpoint,
  warnOnGraphOnlyVariables,
} from './transport-config.ts';

export type {
  GraphLargeMessageMode,
  GraphSettings,
  MailTransport,
  SmtpEndpoint,
} from './transport-config.ts';

export const SMTP_TLS_MODES = ['starttls', 'implicit'] as const;
export type SmtpTlsMode = (typeof SMTP_TLS_MODES)[number];
export const SMTP_AUTH_MODES = ['oauth2', 'password', 'none'] as const;
export type SmtpAuthMode = (typeof SMTP_AUTH_MODES)[number];

/** Variables that hold secrets: on AWS they come from `MAIL_SECRET_ARN`, never from plain env. */
export const SECRET_VARIABLES = [
  'O365_CLIENT_SECRET',
  'O365_CLIENT_CERTIFICATE',
  'O365_CLIENT_PRIVATE_KEY',
  'SMTP_PASSWORD',
] as const;

export const DEFAULT_SMTP_HOST = 'smtp.office365.com';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_SCOPE = 'https://outlook.office365.com/.default';
/** Sized for Lambda: a dead server must fail fast enough to report retries before the deadline. */
export const DEFAULT_TIMEOUTS = {
  connectionMs: 10_000,
  greetingMs: 10_000,
  socketMs: 30_000,
} as const;
/**
 * How long a warm sender keeps its authenticated SMTP session idle for the next batch. Long enough
 * to bridge the gaps between batches of a busy queue, short enough that a quiet sender gives its
 * connection back to the mailbox's ~3 (Office 365) within a minute.
 */
export const DEFAULT_KEEPALIVE_SECONDS = 60;
/** Office 365 hosts serve STARTTLS on 587 only (no implicit TLS on 465). */
const OFFICE365_SMTP_HOSTS = new Set([
  'smtp.office365.com',
  'smtp.office365.us',
  'smtp.partner.outlook.cn',
  'smtp.hve.mx.microsoft',
]);

export interface SmtpSettings {
  /**
   * Exchange Online client submission, or the High Volume Email preset (its host, OAuth, at most
   * 50 recipients and 10 MB per message, internal recipients only).
   * @default 'office365' (`SMTP_ENDPOINT`)
   */
  endpoint?: SmtpEndpoint;
  /** @default 'smtp.office365.com', 'smtp.hve.mx.microsoft' for HVE (`SMTP_HOST`) */
  host: string;
  /** @default 587 (`SMTP_PORT`) */
  port: number;
  /** @default 'starttls', or 'implicit' when the port is 465 (`SMTP_TLS`) */
  tls: SmtpTlsMode;
  /** @default 'oauth2' (`SMTP_AUTH`) */
  auth: SmtpAuthMode;
  /**
   * True only for `SMTP_AUTH=none` to a loopback host (a local capture server): STARTTLS is used
   * when offered and the session may stay in plain text otherwise. Nothing secret is sent then,
   * and the traffic never leaves the machine. Everywhere else TLS is required.
   */
  allowPlaintext: boolean;
  /** @default 10000 (`SMTP_CONNECTION_TIMEOUT_MS`) */
  connectionTimeoutMs: number;
  /** @default 10000 (`SMTP_GREETING_TIMEOUT_MS`) */
  greetingTimeoutMs: number;
  /** Longest silence within one SMTP exchange. @default 30000 (`SMTP_SOCKET_TIMEOUT_MS`) */
  socketTimeoutMs: number;
  /**
   * Seconds a warm sender keeps its idle, authenticated session for the next batch; 0 = QUIT at
   * the end of every batch. Optional so hand-built settings (tests, tools) keep one session per
   * batch. @default 60 from `loadSenderConfig` (`SMTP_KEEPALIVE_SECONDS`), 0 when absent here
   */
  keepAliveSeconds?: number;
}

export interface OAuthSettings {
  /** `O365_TENANT_ID` */
  tenantId: string;
  /** `O365_CLIENT_ID` */
  clientId: string;
  /** @default 'https://login.microsoftonline.com' (`O365_AUTHORITY_HOST`) */
  authorityHost: string;
  /**
   * @default 'https://outlook.office365.com/.default' (`O365_SCOPE`); with Graph always
   *   `<O365_GRAPH_ENDPOINT>/.default`
   */
  scope: string;
  /** `O365_CLIENT_SECRET`; exactly one of secret or certificate + key is set. */
  clientSecret?: string;
  /** `O365_CLIENT_CERTIFICATE` (PEM) */
  clientCertificate?: string;
  /** `O365_CLIENT_PRIVATE_KEY` (PEM) */
  clientPrivateKey?: string;
}

export interface SenderConfig {
  /** `MAIL_DLQ_URL` */
  dlqUrl: string;
  /** `MAIL_QUEUE_URL`; @default derived from the event's queue ARN by the consumer */
  queueUrl?: string;
  /** `MAIL_SENDER`, lower-cased: the mailbox that authenticates, and the default `from`. */
  sender: string;
  /** `MAIL_ALLOWED_FROM`, lower-cased addresses or `@domain`. @default [sender] */
  allowedFrom: string[];
  /**
   * The door into Exchange Online: SMTP AUTH, or Microsoft Graph `sendMail`.
   * @default 'smtp' (`MAIL_TRANSPORT`)
   */
  transport?: MailTransport;
  /** SMTP settings; with Graph only their defaults, unused. */
  smtp: SmtpSettings;
  /** Present when `transport` is `graph`. */
  graph?: GraphSettings;
  /** Present when `smtp.auth` is `oauth2`, and always with Graph. */
  oauth?: OAuthSettings;
  /** `SMTP_PASSWORD`; present when `smtp.auth` is `password`. */
  password?: string;
  /** `MAIL_SECRET_ARN`, when secrets came from Secrets Manager. */
  secretArn?: string;
  /**
   * When the client secret or password expires, as its owner wrote it down
   * (`MAIL_CREDENTIAL_EXPIRES_AT`, or `expiresAt` in the secret); a certificate says so itself.
   */
  credentialExpiresAt?: Date;
}

export type SenderConfigResult =
  | { ok: true; config: SenderConfig; warnings: string[] }
  | { ok: false; problems: string[] };

/** Reads and validates the sender's configuration from `env` (secrets already merged in). */
export function loadSenderConfig(env: Env): SenderConfigResult {
  const r = new ConfigReader(env);
  const dlqUrl = r.required(
    'MAIL_DLQ_URL',
    parseQueueUrl,
    'set it to the URL of the dead-letter queue.',
  );
  const queueUrl = r.optional('MAIL_QUEUE_URL', parseQueueUrl);
  const sender = r.required(
    'MAIL_SENDER',
    parseAddress,
    'set it to the mailbox that sends, e.g. noreply@contoso.com.',
  );
  const allowedFrom = r.optional('MAIL_ALLOWED_FROM', parseAllowedFrom);
  const transport = readTransport(r);
  const smtp = readSmtp(r, transport);
  const useOAuth = transport === 'graph' || smtp?.auth === 'oauth2';
  const oauth = useOAuth ? readOAuth(r, transport) : undefined;
  const graph = transport === 'graph' ? readGraph(r, oauth?.authorityHost) : undefined;
  if (transport === 'smtp') warnOnGraphOnlyVariables(r);
  if (graph && oauth) oauth.scope = graphScope(r, graph.endpoint);
  const password = transport === 'smtp' && smtp?.auth === 'password' ? readPassword(r) : undefined;
  const secretArn = r.raw('MAIL_SECRET_ARN')?.trim();
  const credentialExpiresAt = r.optional('MAIL_CREDENTIAL_EXPIRES_AT', parseExpiry);
  if (r.problems.length > 0 || !dlqUrl || !sender || !smtp || !transport)
    return { ok: false, problems: r.problems };

  const config: SenderConfig = {
    dlqUrl,
    sender,
    allowedFrom: allowedFrom ?? [sender],
    transport,
    smtp,
  };
  if (queueUrl) config.queueUrl = queueUrl;
  if (graph) config.graph = graph;
  if (oauth) config.oauth = oauth;
  if (password !== undefined) config.password = password;
  if (secretArn) config.secretArn = secretArn;
  if (credentialExpiresAt) config.credentialExpiresAt = credentialExpiresAt;
  return { ok: true, config, warnings: [...r.warnings, ...configWarnings(config)] };
}

function configWarnings(config: SenderConfig): string[] {
  const warnings: string[] = [];
  if (
    config.transport !== 'graph' &&
    config.smtp.auth === 'password' &&
    OFFICE365_SMTP_HOSTS.has(config.smtp.host)
  ) {
    warnings.push(
      'SMTP_AUTH=password is legacy: Microsoft switches Basic auth for SMTP AUTH off by default for existing tenants at the end of December 2026. Move to SMTP_AUTH=oauth2.',
    );
  }
  return warnings;
}

function readSmtp(r: ConfigReader, transport: MailTransport | undefined): SmtpSettings | undefined {
  const endpoint = readSmtpEndpoint(r);
  const configuredHost = r.optional('SMTP_HOST', parseHost);
  const host =
    endpoint === 'hve' ? hveHost(r, configuredHost) : (configuredHost ?? DEFAULT_SMTP_HOST);
  const port = r.optional('SMTP_PORT', parsePort) ?? 587;
  const rawTls = r.raw('SMTP_TLS')?.trim().toLowerCase();
  const rawAuth = r.raw('SMTP_AUTH');
  // An unreadable SMTP_AUTH is one problem; the credentials of a guessed mode would only add noise.
  const auth =
    rawAuth === undefined ? 'oauth2' : r.take(parseEnum('SMTP_AUTH', rawAuth, SMTP_AUTH_MODES));
  checkDoor(r, transport, endpoint, auth);
  let tls: SmtpTlsMode | undefined = port === 465 ? 'implicit' : 'starttls';
  if (rawTls === 'none' || rawTls === 'off' || rawTls === 'false') {
    r.problems.push(
      'SMTP_TLS=none is not supported: credentials and mail never travel without TLS. Use starttls (port 587) or implicit (465); for a local capture server without TLS, set SMTP_AUTH=none with SMTP_HOST=127.0.0.1 (STARTTLS is then used only when offered).',
    );
    tls = undefined;
  } else if (rawTls !== undefined) {
    tls = r.take(parseEnum('SMTP_TLS', rawTls, SMTP_TLS_MODES));
  }
  if (OFFICE365_SMTP_HOSTS.has(host) && (port === 465 || tls === 'implicit')) {
    r.problems.push(
      `SMTP_PORT/SMTP_TLS: ${host} offers no implicit TLS (port 465); use SMTP_PORT=587 with SMTP_TLS=starttls (the defaults).`,
    );
  }
  const connectionTimeoutMs =
    r.optional('SMTP_CONNECTION_TIMEOUT_MS', parseMillis) ?? DEFAULT_TIMEOUTS.connectionMs;
  const greetingTimeoutMs =
    r.optional('SMTP_GREETING_TIMEOUT_MS', parseMillis) ?? DEFAULT_TIMEOUTS.greetingMs;
  const socketTimeoutMs =
    r.optional('SMTP_SOCKET_TIMEOUT_MS', parseMillis) ?? DEFAULT_TIMEOUTS.socketMs;
  const keepAliveSeconds =
    r.optional('SMTP_KEEPALIVE_SECONDS', parseKeepAliveSeconds) ?? DEFAULT_KEEPALIVE_SECONDS;
  if (!tls || !auth || !endpoint) return undefined;
  const allowPlaintext = auth === 'none' && isLoopbackHost(host);
  return {
    endpoint,
    host,
    port,
    tls,
    auth,
    allowPlaintext,
    connectionTimeoutMs,
    greetingTimeoutMs,
    socketTimeoutMs,
    keepAliveSeconds,
  };
}

function readOAuth(
  r: ConfigReader,
  transport: MailTransport | undefined,
): OAuthSettings | undefined {
  const why =
    transport === 'graph'
      ? 'MAIL_TRANSPORT=graph needs the Entra app registration'
      : 'SMTP_AUTH=oauth2 (the default) needs the Entra app registration';
  const tenantId = r.required(
    'O365_TENANT_ID',
    parseTenantId,
    `${why}: set the Directory (tenant) ID.`,
  );
  const clientId = r.required(
    'O365_CLIENT_ID',
    parseClientId,
    `${why}: set the Application (client) ID.`,
  );
  const authorityHost =
    r.optional('O365_AUTHORITY_HOST', parseAuthorityHost) ?? DEFAULT_AUTHORITY_HOST;
  const scope = r.optional('O365_SCOPE', parseScope) ?? DEFAULT_SCOPE;
  const clientSecret = r.raw('O365_CLIENT_SECRET')?.trim();
  const hasCert = r.raw('O365_CLIENT_CERTIFICATE') !== undefined;
  const hasKey = r.raw('O365_CLIENT_PRIVATE_KEY') !== undefined;
  const clientCertificate = r.optional('O365_CLIENT_CERTIFICATE', parseCertificatePem);
  const clientPrivateKey = r.optional('O365_CLIENT_PRIVATE_KEY', parsePrivateKeyPem);
  const where = 'in the MAIL_SECRET_ARN secret (or the environment outside AWS)';
  if (clientSecret && (hasCert || hasKey)) {
    r.problems.push(
      `O365_CLIENT_SECRET and O365_CLIENT_CERTIFICATE/O365_CLIENT_PRIVATE_KEY are both set: keep only one credential ${where}.`,
    );
  } else if (!clientSecret && !hasCert && !hasKey) {
    r.problems.push(
      `O365_CLIENT_SECRET is not set: ${why} credential, a client secret or O365_CLIENT_CERTIFICATE + O365_CLIENT_PRIVATE_KEY (PEM), ${where}.`,
    );
  } else if (!clientSecret && hasCert !== hasKey) {
    const missing = hasCert ? 'O365_CLIENT_PRIVATE_KEY' : 'O365_CLIENT_CERTIFICATE';
    r.problems.push(
      `${missing} is not set: a certificate credential needs both O365_CLIENT_CERTIFICATE and O365_CLIENT_PRIVATE_KEY ${where}.`,
    );
  }
  if (!tenantId || !clientId) return undefined;
  const oauth: OAuthSettings = { tenantId, clientId, authorityHost, scope };
  if (clientSecret) oauth.clientSecret = clientSecret;
  if (clientCertificate && clientPrivateKey) {
    oauth.clientCertificate = clientCertificate;
    oauth.clientPrivateKey = clientPrivateKey;
  }
  return oauth;
}

function readPassword(r: ConfigReader): string | undefined {
  const password = r.raw('SMTP_PASSWORD');
  if (password === undefined) {
    r.problems.push(
      'SMTP_PASSWORD is not set: SMTP_AUTH=password needs the password of MAIL_SENDER in the MAIL_SECRET_ARN secret (or the environment outside AWS). Basic auth is being switched off by Microsoft; prefer SMTP_AUTH=oauth2.',
    );
  }
  return password;
}

/**
 * Which door into Exchange Online the sender uses, and that door's settings: SMTP AUTH (the
 * default), the High Volume Email preset of SMTP (`SMTP_ENDPOINT=hve`), or Microsoft Graph
 * `sendMail` (`MAIL_TRANSPORT=graph`). Read by `loadSenderConfig`; every problem names its variable.
 */
import type { ConfigReader } from './config-reader.ts';
import { parseBoolean, parseEnum, parseGraphEndpoint, parseMillis } from './config-values.ts';
import type { SmtpAuthMode } from './sender-config.ts';

export const MAIL_TRANSPORTS = ['smtp', 'graph'] as const;
/** `MAIL_TRANSPORT`: SMTP AUTH, or Microsoft Graph `sendMail` with the same MIME. */
export type MailTransport = (typeof MAIL_TRANSPORTS)[number];

export const SMTP_ENDPOINTS = ['office365', 'hve'] as const;
/** `SMTP_ENDPOINT`: Exchange Online client submission, or High Volume Email (internal mail only). */
export type SmtpEndpoint = (typeof SMTP_ENDPOINTS)[number];

export const GRAPH_LARGE_MESSAGE_MODES = ['reject', 'upload'] as const;
/** `MAIL_GRAPH_LARGE_MESSAGES`: what to do with a message over sendMail's ~4 MB request limit. */
export type GraphLargeMessageMode = (typeof GRAPH_LARGE_MESSAGE_MODES)[number];

export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
/** Graph hosts of the national clouds, and the Entra authority host each one pairs with. */
export const GRAPH_CLOUDS: readonly {
  graph: string;
  authority: readonly string[];
  cloud: string;
}[] = [
  {
    graph: 'https://graph.microsoft.com',
    authority: ['https://login.microsoftonline.com', 'https://login.microsoft.com'],
    cloud: 'the commercial cloud',
  },
  {
    graph: 'https://graph.microsoft.us',
    authority: ['https://login.microsoftonline.us'],
    cloud: 'GCC High',
  },
  {
    graph: 'https://dod-graph.microsoft.us',
    authority: ['https://login.microsoftonline.us'],
    cloud: 'DoD',
  },
  {
    graph: 'https://microsoftgraph.chinacloudapi.cn',
    authority: ['https://login.chinacloudapi.cn', 'https://login.partner.microsoftonline.cn'],
    cloud: '21Vianet (China)',
  },
];
/** One Graph request (sendMail, or one step of the upload route) may take this long. */
export const DEFAULT_GRAPH_TIMEOUT_MS = 30_000;

/** High Volume Email's SMTP endpoint; `smtp-hve.office365.com` is being retired. */
export const HVE_SMTP_HOST = 'smtp.hve.mx.microsoft';
const RETIRED_HVE_HOST = 'smtp-hve.office365.com';

export interface GraphSettings {
  /** @default 'https://graph.microsoft.com' (`O365_GRAPH_ENDPOINT`); the token scope is `<endpoint>/.default` */
  endpoint: string;
  /** Graph's `saveToSentItems`. @default true (`MAIL_SAVE_TO_SENT_ITEMS`) */
  saveToSentItems: boolean;
  /**
   * `reject`: a message whose sendMail request would exceed ~4 MB is dead-lettered as rejected;
   * `upload`: it goes as a draft with attachment upload sessions (needs Mail.ReadWrite).
   * @default 'reject' (`MAIL_GRAPH_LARGE_MESSAGES`)
   */
  largeMessages: GraphLargeMessageMode;
  /** Longest wait for one Graph request. @default 30000 (`MAIL_GRAPH_TIMEOUT_MS`) */
  timeoutMs: number;
}

export function readTransport(r: ConfigReader): MailTransport | undefined {
  const raw = r.raw('MAIL_TRANSPORT');
  return raw === undefined ? 'smtp' : r.take(parseEnum('MAIL_TRANSPORT', raw, MAIL_TRANSPORTS));
}

export function readSmtpEndpoint(r: ConfigReader): SmtpEndpoint | undefined {
  const raw = r.raw('SMTP_ENDPOINT');
  return raw === undefined ? 'office365' : r.take(parseEnum('SMTP_ENDPOINT', raw, SMTP_ENDPOINTS));
}

/** The Graph settings; for `MAIL_TRANSPORT=smtp` only checks that Graph-only variables are readable. */
export function readGraph(
  r: ConfigReader,
  authorityHost: string | undefined,
): GraphSettings | undefined {
  const endpoint = r.optional('O365_GRAPH_ENDPOINT', parseGraphEndpoint) ?? DEFAULT_GRAPH_ENDPOINT;
  const saveToSentItems = r.optional('MAIL_SAVE_TO_SENT_ITEMS', parseBoolean) ?? true;
  const rawLarge = r.raw('MAIL_GRAPH_LARGE_MESSAGES');
  const largeMessages =
    rawLarge === undefined
      ? 'reject'
      : r.take(parseEnum('MAIL_GRAPH_LARGE_MESSAGES', rawLarge, GRAPH_LARGE_MESSAGE_MODES));
  const timeoutMs = r.optional('MAIL_GRAPH_TIMEOUT_MS', parseMillis) ?? DEFAULT_GRAPH_TIMEOUT_MS;
  if (!largeMessages) return undefined;
  warnOnCloudMismatch(r, endpoint, authorityHost);
  return { endpoint, saveToSentItems, largeMessages, timeoutMs };
}

/** Graph-only variables set while the sender speaks SMTP: said once, so nobody wonders why they do nothing. */
export function warnOnGraphOnlyVariables(r: ConfigReader): void {
  const set = [
    'O365_GRAPH_ENDPOINT',
    'MAIL_SAVE_TO_SENT_ITEMS',
    'MAIL_GRAPH_LARGE_MESSAGES',
    'MAIL_GRAPH_TIMEOUT_MS',
  ].filter((name) => r.raw(name) !== undefined);
  if (set.length > 0) {
    r.warnings.push(
      `${set.join(', ')} ${set.length === 1 ? 'has' : 'have'} no effect with MAIL_TRANSPORT=smtp: set MAIL_TRANSPORT=graph to send through Microsoft Graph, or remove ${set.length === 1 ? 'it' : 'them'}.`,
    );
  }
}

/** The HVE preset's host default and the checks that keep the preset coherent. */
export function hveHost(r: ConfigReader, host: string | undefined): string {
  if (host === RETIRED_HVE_HOST) {
    r.warnings.push(
      `SMTP_HOST=${RETIRED_HVE_HOST} is being retired by Microsoft: use ${HVE_SMTP_HOST} (the SMTP_ENDPOINT=hve default).`,
    );
  }
  return host ?? HVE_SMTP_HOST;
}

function warnOnCloudMismatch(
  r: ConfigReader,
  endpoint: string,
  authorityHost: string | undefined,
): void {
  const graphCloud = GRAPH_CLOUDS.find((c) => c.graph === endpoint);
  const authority = authorityHost ?? 'https://login.microsoftonline.com';
  const authorityCloud = GRAPH_CLOUDS.find((c) => c.authority.includes(authority));
  if (!graphCloud || !authorityCloud || authorityCloud.authority.includes(graphCloud.authority[0]!))
    return;
  r.warnings.push(
    `O365_GRAPH_ENDPOINT=${endpoint} is ${graphCloud.cloud}, but O365_AUTHORITY_HOST=${authority} signs in to ${authorityCloud.cloud}: set O365_AUTHORITY_HOST=${graphCloud.authority[0]} so the token is issued by the same cloud.`,
  );
}

/** The combinations of door, preset and authentication that cannot work. */
export function checkDoor(
  r: ConfigReader,
  transport: MailTransport | undefined,
  endpoint: SmtpEndpoint | undefined,
  auth: SmtpAuthMode | undefined,
): void {
  if (transport === 'graph' && endpoint === 'hve') {
    r.problems.push(
      'SMTP_ENDPOINT=hve does not fit MAIL_TRANSPORT=graph: High Volume Email is an SMTP endpoint. Remove one of them.',
    );
  }
  if (transport === 'graph' && auth !== undefined && auth !== 'oauth2') {
    r.problems.push(
      `SMTP_AUTH=${auth} does not fit MAIL_TRANSPORT=graph: Graph takes only app-only OAuth tokens. Remove SMTP_AUTH (or set it to oauth2) and set the O365_* variables.`,
    );
  }
  if (transport === 'smtp' && endpoint === 'hve' && auth === 'none') {
    r.problems.push(
      'SMTP_AUTH=none does not fit SMTP_ENDPOINT=hve: High Volume Email needs OAuth (SMTP_AUTH=oauth2, the default) or the HVE account password (SMTP_AUTH=password).',
    );
  }
}

/** Graph tokens are for the Graph resource: `O365_SCOPE` (the SMTP scope) may only repeat it. */
export function graphScope(r: ConfigReader, endpoint: string): string {
  const scope = `${endpoint}/.default`;
  const configured = r.raw('O365_SCOPE')?.trim();
  if (configured !== undefined && configured !== scope) {
    r.problems.push(
      `O365_SCOPE=${configured} does not fit MAIL_TRANSPORT=graph: Graph tokens use the scope ${scope} (from O365_GRAPH_ENDPOINT). Remove O365_SCOPE; it is the scope of the SMTP door.`,
    );
  }
  return scope;
}

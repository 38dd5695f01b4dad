import { MailQueueError } from '../errors.ts';

/** What the token endpoint (or the way to it) said, as far as it is known. */
export interface TokenFailureDetails {
  /** OAuth error code from Entra (`invalid_client`, `unauthorized_client`) or MSAL (`network_error`). */
  errorCode: string;
  /** The description Entra wrote (starts with the `AADSTS…` code), or MSAL's message. */
  description: string;
  /** HTTP status of the token endpoint's answer, when it answered. */
  httpStatus?: number;
}

const OAUTH_TRANSIENT_CODES = new Set([
  'temporarily_unavailable',
  'server_error',
  'network_error',
  'no_network_connectivity',
  'request_timeout',
]);

/**
 * The OAuth token could not be obtained. Carries Entra's error code and `AADSTS…` number so the
 * failure table can say exactly what is wrong (wrong secret, unknown app, unknown tenant) and
 * whether a later attempt may succeed (`transient`: the endpoint was unreachable or answered 5xx/429).
 */
export class TokenAcquisitionError extends MailQueueError {
  readonly errorCode: string;
  /** `AADSTS7000215` etc., parsed from the description; empty when Entra gave none. */
  readonly aadsts: string;
  readonly description: string;
  readonly httpStatus: number | undefined;
  readonly transient: boolean;

  constructor(details: TokenFailureDetails, options?: { cause?: unknown }) {
    const aadsts = /AADSTS\d+/.exec(details.description)?.[0] ?? '';
    const status = details.httpStatus ? ` (HTTP ${details.httpStatus})` : '';
    super(`Token request failed${status}: ${details.errorCode}: ${details.description}`, options);
    this.name = 'TokenAcquisitionError';
    this.errorCode = details.errorCode;
    this.aadsts = aadsts;
    this.description = details.description;
    this.httpStatus = details.httpStatus;
    this.transient =
      OAUTH_TRANSIENT_CODES.has(details.errorCode) ||
      details.httpStatus === 429 ||
      (details.httpStatus !== undefined && details.httpStatus >= 500);
  }
}

/** Finds a {@link TokenAcquisitionError} in `err` or its `cause` chain (nodemailer wraps it as `EAUTH`). */
export function findTokenAcquisitionError(err: unknown): TokenAcquisitionError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if ((current as { name?: unknown }).name === 'TokenAcquisitionError') {
      return current as TokenAcquisitionError;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

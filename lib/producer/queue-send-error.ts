/**
 * Turns whatever the SQS client threw into a {@link QueueSendError} that says whether trying again
 * can help: the SDK marks service errors with `$fault`/`$retryable`; network errors carry neither,
 * and neither do the client's own configuration errors (no region, no credentials, a bad endpoint).
 */
import { QueueSendError } from '../errors.ts';

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Failures of the connection itself, the ones the SDK's own retry strategy treats as transient
 * (smithy's NODEJS_TIMEOUT_ERROR_CODES and NODEJS_NETWORK_ERROR_CODES), plus a DNS lookup that
 * timed out.
 */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TIMEOUT_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

export function toQueueSendError(thrown: unknown): QueueSendError {
  if (thrown instanceof QueueSendError) return thrown;
  const error = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as SdkErrorShape;
  const code = error.code ?? error.name ?? 'Unknown';
  const status = error.$metadata?.httpStatusCode;
  const retryable =
    Boolean(error.$retryable) ||
    error.$fault === 'server' ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    // No HTTP status and no fault: the request got no answer (a dropped connection, a timeout),
    // or it never left because the client is misconfigured, which no retry mends.
    (status === undefined && error.$fault === undefined && isNetworkFailure(error));
  const text = error.message ?? String(thrown);
  return new QueueSendError(`SQS did not take the message: ${code}: ${text}`, code, retryable, {
    cause: thrown,
  });
}

function isNetworkFailure(error: SdkErrorShape): boolean {
  return (
    (error.code !== undefined && NETWORK_ERROR_CODES.has(error.code)) ||
    (error.name !== undefined && TIMEOUT_ERROR_NAMES.has(error.name))
  );
}

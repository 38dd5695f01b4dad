/**
 * Turns whatever the SQS client threw into a {@link QueueSendError} that says whether trying again
 * can help: the SDK marks service errors with `$fault`/`$retryable`; network errors carry neither.
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
    // No HTTP status and no fault: the request never got an answer (connection reset, timeout).
    (status === undefined && error.$fault === undefined);
  const text = error.message ?? String(thrown);
  return new QueueSendError(`SQS did not take the message: ${code}: ${text}`, code, retryable, {
    cause: thrown,
  });
}

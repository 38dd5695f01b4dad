import { describe, expect, it } from 'vitest';
import { MAIL_SENDER_DEFAULTS } from '../../infra/mail-sender-props.ts';
import {
  LOCAL_FUNCTION_TIMEOUT_MS,
  LOCAL_MAX_RECEIVE_COUNT,
  LOCAL_VISIBILITY_TIMEOUT_SECONDS,
} from '../../lib/local/local-defaults.ts';

describe('local pipeline settings', () => {
  it('redrive and timeouts match the stack, so local runs retry and dead-letter as AWS does', () => {
    expect(LOCAL_MAX_RECEIVE_COUNT).toBe(MAIL_SENDER_DEFAULTS.maxReceiveCount);
    expect(LOCAL_FUNCTION_TIMEOUT_MS).toBe(MAIL_SENDER_DEFAULTS.timeout.toMilliseconds());
    expect(LOCAL_VISIBILITY_TIMEOUT_SECONDS).toBe(6 * MAIL_SENDER_DEFAULTS.timeout.toSeconds());
  });
});

/**
 * Names, ports and files of the local pipeline (`npm start`, `npm run demo`), in one place so the
 * pipeline, the demo and the `o365-mail` command line agree.
 */

/** The SQS emulator's port; `O365_LOCAL_SQS_PORT` overrides it (0 = any free port). */
export const LOCAL_SQS_PORT = 4566;
export const LOCAL_REGION = 'us-east-1';
/** fauxqs' account id in path-style queue URLs. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_QUEUE_NAME = 'o365-mail';
export const LOCAL_DLQ_NAME = 'o365-mail-dlq';
/**
 * The stack's redrive setting (`MAIL_SENDER_DEFAULTS.maxReceiveCount` in infra/mail-sender-props.ts;
 * a test keeps them equal). Not imported from there: that would load aws-cdk-lib into `npm start`.
 */
export const LOCAL_MAX_RECEIVE_COUNT = 5;
/** The sender's function timeout in the stack (60 s), and the queue's visibility timeout (6x it). */
export const LOCAL_FUNCTION_TIMEOUT_MS = 60_000;
export const LOCAL_VISIBILITY_TIMEOUT_SECONDS = 360;
/** Where `npm start` tells the command line how to reach it (relative to the working directory). */
export const LOCAL_STATE_FILE = '.local/pipeline.json';
/**
 * How often the local pipeline runs the circuit breaker's probe (the stack's EventBridge schedule),
 * at production speed; `MAIL_RETRY_TIME_SCALE` shortens it like every retry delay.
 */
export const LOCAL_PROBE_INTERVAL_MS = 30_000;
/** Throwaway CA and capture-server certificate. */
export const LOCAL_TLS_DIR = '.local/tls';
/** Captured messages, one `.eml` file each; `O365_LOCAL_OUTBOX` overrides it. */
export const LOCAL_OUTBOX_DIR = 'outbox';
/** The sender mailbox the local pipeline uses when `.env` configures none. */
export const LOCAL_SENDER = 'noreply@example.com';
/** Credentials fauxqs accepts (it does not check them; the SDK only needs something to sign with). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** `http://127.0.0.1:<port>/000000000000/<name>`: resolves everywhere, unlike fauxqs' own host names. */
export function localQueueUrl(endpoint: string, name: string): string {
  return `${endpoint}/${LOCAL_ACCOUNT}/${name}`;
}

export function localQueueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
}

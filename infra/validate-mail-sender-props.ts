import { Token } from 'aws-cdk-lib';
import {
  GRAPH_LARGE_MESSAGE_MODES,
  MAIL_SENDER_DEFAULTS,
  MAIL_TRANSPORTS,
  MANAGED_ENVIRONMENT,
  type MailSenderProps,
  SENDER_CODES,
  SMTP_AUTH_MODES,
  SMTP_ENDPOINTS,
} from './mail-sender-props.ts';

/** Secret values: only ever in Secrets Manager. */
const SECRET_ENVIRONMENT = [
  'O365_CLIENT_SECRET',
  'O365_CLIENT_PRIVATE_KEY',
  'O365_CLIENT_CERTIFICATE',
  'SMTP_PASSWORD',
];

/** Thrown once with every problem in the props. */
export class MailSenderPropsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid MailSender props:\n- ${problems.join('\n- ')}`);
    this.name = 'MailSenderPropsError';
    this.problems = problems;
  }
}

const EMAIL = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;
const DOMAIN_ENTRY = /^@[^\s@<>",]+\.[^\s@<>",]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;

/** True when `value` is known at synth time (tokens are checked by CloudFormation instead). */
const known = (value: string | number | undefined): boolean =>
  value !== undefined && !Token.isUnresolved(value);

function checkRange(
  problems: string[],
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  unit = '',
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}${unit}, got ${value}`);
  }
}

function checkIdentity(props: MailSenderProps, problems: string[]): void {
  if (known(props.sender) && !EMAIL.test(props.sender)) {
    problems.push(`sender must be a mailbox address like mail@contoso.com, got '${props.sender}'`);
  }
  for (const entry of props.allowedFrom ?? []) {
    if (known(entry) && !EMAIL.test(entry) && !DOMAIN_ENTRY.test(entry)) {
      problems.push(`allowedFrom entries must be addresses or @domain, got '${entry}'`);
    }
  }
  const auth = props.smtpAuth ?? MAIL_SENDER_DEFAULTS.smtpAuth;
  if (!SMTP_AUTH_MODES.includes(auth)) {
    problems.push(`smtpAuth must be one of ${SMTP_AUTH_MODES.join(', ')}, got '${auth}'`);
  }
  if (auth === 'oauth2') {
    if (props.tenantId === undefined) problems.push('tenantId is required with smtpAuth oauth2');
    else if (known(props.tenantId) && !TENANT.test(props.tenantId)) {
      problems.push(
        `tenantId must be the directory (tenant) GUID or primary domain, got '${props.tenantId}'`,
      );
    }
    if (props.clientId === undefined) problems.push('clientId is required with smtpAuth oauth2');
    else if (known(props.clientId) && !GUID.test(props.clientId)) {
      problems.push(`clientId must be the application (client) GUID, got '${props.clientId}'`);
    }
  }
  if (known(props.secretArn) && !SECRET_ARN.test(props.secretArn ?? '')) {
    problems.push(
      `secretArn must be a complete Secrets Manager ARN ending in its 6-character suffix, got '${props.secretArn}'`,
    );
  }
  if (known(props.authorityHost) && !/^https:\/\/[^/\s]+\/?$/.test(props.authorityHost ?? '')) {
    problems.push(`authorityHost must be an https:// origin, got '${props.authorityHost}'`);
  }
  if (known(props.alarmEmail) && !EMAIL.test(props.alarmEmail ?? '')) {
    problems.push(`alarmEmail must be an e-mail address, got '${props.alarmEmail}'`);
  }
  for (const key of Object.keys(props.environment ?? {})) {
    if (SECRET_ENVIRONMENT.includes(key)) {
      problems.push(`environment.${key} is a secret: put it in the Secrets Manager secret instead`);
    } else if ((MANAGED_ENVIRONMENT as readonly string[]).includes(key)) {
      problems.push(`environment.${key} is set by the construct: use its prop instead`);
    }
  }
}

function checkQueueAndFunction(props: MailSenderProps, problems: string[]): void {
  if (props.senderCode !== undefined && !SENDER_CODES.includes(props.senderCode)) {
    problems.push(
      `senderCode must be one of ${SENDER_CODES.join(', ')}, got '${String(props.senderCode)}'`,
    );
  }
  const timeout = props.timeout ?? MAIL_SENDER_DEFAULTS.timeout;
  const timeoutSeconds = timeout.toSeconds();
  checkRange(problems, 'timeout', timeoutSeconds, 1, 900, ' seconds');
  // The sender's own range (lib/config/config-values.ts): refused here, at synth, rather than at its first batch.
  checkRange(
    problems,
    'smtpKeepAlive',
    props.smtpKeepAlive?.toSeconds({ integral: false }),
    0,
    3_600,
    ' seconds',
  );
  if (props.visibilityTimeout !== undefined) {
    const visibility = props.visibilityTimeout.toSeconds();
    if (visibility < 6 * timeoutSeconds) {
      problems.push(
        `visibilityTimeout (${visibility} s) must be at least 6 x the function timeout (${6 * timeoutSeconds} s)`,
      );
    }
    checkRange(problems, 'visibilityTimeout', visibility, 0, 43_200, ' seconds');
  }
  if (props.retentionPeriod !== undefined) {
    checkRange(
      problems,
      'retentionPeriod',
      props.retentionPeriod.toSeconds(),
      60,
      1_209_600,
      ' seconds',
    );
  }
  checkRange(problems, 'maxReceiveCount', props.maxReceiveCount, 1, 1000);
  checkRange(problems, 'memorySize', props.memorySize, 128, 10_240, ' MB');
  checkRange(problems, 'batchSize', props.batchSize, 1, 10);
  checkRange(problems, 'maxConcurrency', props.maxConcurrency, 2, 1000);
  if (props.deliveryLedgerTtl !== undefined) {
    const ttl = props.deliveryLedgerTtl.toSeconds();
    checkRange(problems, 'deliveryLedgerTtl', ttl, 60, 31_536_000, ' seconds');
  }
  if (props.sendRateLimit) {
    const { messagesPerMinute, recipientsPerDay } = props.sendRateLimit;
    checkRange(problems, 'sendRateLimit.messagesPerMinute', messagesPerMinute, 1, 100_000);
    checkRange(problems, 'sendRateLimit.recipientsPerDay', recipientsPerDay, 1, 10_000_000);
  }
  checkRange(problems, 'smtpPort', props.smtpPort, 1, 65_535);
  checkRange(problems, 'maxConnections', props.maxConnections, 0, 1000);
  if (props.breaker) {
    const { probeInterval, outageAfter } = props.breaker;
    checkRange(
      problems,
      'breaker.probeInterval',
      probeInterval?.toMinutes({ integral: false }),
      1,
      60,
      ' minutes',
    );
    checkRange(
      problems,
      'breaker.outageAfter',
      outageAfter?.toSeconds({ integral: false }),
      0,
      3_600,
      ' seconds',
    );
  }
  if (props.maxBatchingWindow !== undefined) {
    checkRange(
      problems,
      'maxBatchingWindow',
      props.maxBatchingWindow.toSeconds(),
      0,
      300,
      ' seconds',
    );
    if (props.fifo) problems.push('maxBatchingWindow is not supported with fifo queues');
  }
  if (props.oldestMessageAgeThreshold !== undefined) {
    checkRange(
      problems,
      'oldestMessageAgeThreshold',
      props.oldestMessageAgeThreshold.toSeconds(),
      60,
      1_209_600,
      ' seconds',
    );
  }
}

/** Collects every problem in `props` and throws one {@link MailSenderPropsError}. */
/** The door (transport, endpoint preset) and the props that only make sense with one of them. */
function checkDoor(props: MailSenderProps, problems: string[]): void {
  const transport = props.transport ?? 'smtp';
  const endpoint = props.endpoint ?? 'office365';
  if (!MAIL_TRANSPORTS.includes(transport)) {
    problems.push(`transport must be one of ${MAIL_TRANSPORTS.join(', ')}, got '${transport}'`);
  }
  if (!SMTP_ENDPOINTS.includes(endpoint)) {
    problems.push(`endpoint must be one of ${SMTP_ENDPOINTS.join(', ')}, got '${endpoint}'`);
  }
  const auth = props.smtpAuth ?? MAIL_SENDER_DEFAULTS.smtpAuth;
  if (transport === 'graph') {
    if (props.endpoint === 'hve') {
      problems.push("endpoint 'hve' is an SMTP endpoint: remove it, or use transport 'smtp'");
    }
    if (auth !== 'oauth2') {
      problems.push(
        `smtpAuth '${auth}' does not fit transport 'graph': Graph takes only OAuth (remove smtpAuth)`,
      );
    }
    for (const name of ['smtpHost', 'smtpPort', 'smtpKeepAlive', 'maxConnections'] as const) {
      if (props[name] !== undefined)
        problems.push(`${name} is not used with transport 'graph': remove it`);
    }
  } else {
    for (const name of ['graphEndpoint', 'saveToSentItems', 'graphLargeMessages'] as const) {
      if (props[name] !== undefined) {
        problems.push(
          `${name} is only used with transport 'graph': remove it, or set transport: 'graph'`,
        );
      }
    }
    if (endpoint === 'hve' && auth === 'none') {
      problems.push(
        "smtpAuth 'none' does not fit endpoint 'hve': HVE needs oauth2 (the default) or password",
      );
    }
  }
  if (known(props.graphEndpoint) && !/^https:\/\/[^/\s]+\/?$/.test(props.graphEndpoint ?? '')) {
    problems.push(
      `graphEndpoint must be an https:// origin such as https://graph.microsoft.us, got '${props.graphEndpoint}'`,
    );
  }
  const large = props.graphLargeMessages;
  if (large !== undefined && !GRAPH_LARGE_MESSAGE_MODES.includes(large)) {
    problems.push(
      `graphLargeMessages must be one of ${GRAPH_LARGE_MESSAGE_MODES.join(', ')}, got '${large}'`,
    );
  }
}

export function validateMailSenderProps(props: MailSenderProps): void {
  const problems: string[] = [];
  checkDoor(props, problems);
  checkIdentity(props, problems);
  checkQueueAndFunction(props, problems);
  if (problems.length > 0) throw new MailSenderPropsError(problems);
}

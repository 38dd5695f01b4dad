/**
 * The world the end-to-end sender tests run in, all real and on 127.0.0.1: fauxqs (queue + DLQ with
 * a redrive policy, and S3), the Entra-like token endpoint, the Office 365-like SMTP server, and the
 * REAL `functions/sender.ts` handler driven by the local event source exactly as the Lambda event
 * source mapping would drive it. The handler reads only the SPEC environment variables.
 */
import {
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { vi } from 'vitest';
import {
  type BatchReport,
  createSqsEventSource,
  type SqsEventSource,
  type SqsEventSourceOptions,
} from '../../lib/local/sqs-event-source.ts';
import {
  type Office365Smtp,
  type Office365SmtpOptions,
  startOffice365Smtp,
} from '../emulators/office365-smtp.ts';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';
import {
  startTokenEndpoint,
  type TokenEndpoint,
  type TokenEndpointOptions,
} from '../emulators/token-endpoint.ts';

export const SENDER = 'mailer@contoso.com';
export const DISABLED_MAILBOX = 'smtp-off@contoso.com';

export type SenderHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface SenderWorld {
  sqs: SqsEmulator;
  smtp: Office365Smtp;
  tokens: TokenEndpoint;
  /** Fresh queue + DLQ for one test. */
  queues(options?: {
    fifo?: boolean;
    maxReceiveCount?: number;
  }): Promise<{ queueUrl: string; dlqUrl: string }>;
  /** SPEC environment for the sender, pointed at the emulators. */
  env(
    queueUrl: string,
    dlqUrl: string,
    overrides?: Record<string, string | undefined>,
  ): Record<string, string>;
  /**
   * Imports a fresh copy of `functions/sender.ts` (a new cold start) with `env` in `process.env`
   * (restored by `stop`/`restoreEnv`); the previous copy's kept SMTP session is closed first.
   */
  loadHandler(env: Record<string, string | undefined>): Promise<SenderHandler>;
  /** QUITs the SMTP session the loaded handler keeps between invocations (`closeSenderSession`). */
  closeSession(): Promise<void>;
  restoreEnv(): void;
  eventSource(
    handler: SenderHandler,
    queueUrl: string,
    options?: Partial<SqsEventSourceOptions>,
  ): SqsEventSource & { reports: BatchReport[] };
  enqueue(
    queueUrl: string,
    bodies: (string | object)[],
    extra?: (i: number) => Partial<SendMessageCommandInput>,
  ): Promise<string[]>;
  receiveAll(queueUrl: string): Promise<Message[]>;
  /**
   * Captures the handler's JSON log lines (stdout and stderr) until `stop()`; `json` also holds
   * the lines that are not log lines (EMF metrics, when POWERTOOLS_METRICS_DISABLED is false).
   */
  captureLogs(): { lines: LogLine[]; json: Record<string, unknown>[]; stop(): void };
  stop(): Promise<void>;
}

export async function startSenderWorld(
  smtpOptions: Office365SmtpOptions = {},
  tokenOptions: TokenEndpointOptions = {},
): Promise<SenderWorld> {
  const sqs = await startSqsEmulator();
  const tokens = await startTokenEndpoint(tokenOptions);
  const smtp = await startOffice365Smtp({
    tokenEndpoint: tokens,
    mailboxes: {
      [SENDER]: { sendAs: ['alerts@contoso.com'] },
      [DISABLED_MAILBOX]: { smtpAuthDisabled: true },
    },
    ...smtpOptions,
  });
  const savedEnv = { ...process.env };
  let queueNo = 0;
  let closeSession: () => Promise<void> = async () => undefined;

  const world: SenderWorld = {
    sqs,
    smtp,
    tokens,
    async queues(options = {}) {
      const name = `mail-${++queueNo}${options.fifo ? '.fifo' : ''}`;
      return sqs.createQueueWithDlq(name, {
        fifo: options.fifo,
        maxReceiveCount: options.maxReceiveCount ?? 5,
      });
    },
    env(queueUrl, dlqUrl, overrides = {}) {
      const env: Record<string, string | undefined> = {
        MAIL_QUEUE_URL: queueUrl,
        MAIL_DLQ_URL: dlqUrl,
        MAIL_SENDER: SENDER,
        MAIL_ALLOWED_FROM: `${SENDER},alerts@contoso.com`,
        SMTP_HOST: smtp.host,
        SMTP_PORT: String(smtp.port),
        SMTP_AUTH: 'oauth2',
        O365_TENANT_ID: tokens.tenantId,
        O365_CLIENT_ID: 'test-client',
        O365_CLIENT_SECRET: 'test-secret',
        O365_AUTHORITY_HOST: tokens.authorityHost,
        AWS_REGION: sqs.region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        AWS_ENDPOINT_URL_S3: sqs.endpoint,
        POWERTOOLS_METRICS_DISABLED: 'true',
        // Quiet test output; tests that read the logs set INFO and capture them.
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        ...overrides,
      };
      return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >;
    },
    async loadHandler(env) {
      await world.closeSession();
      world.restoreEnv();
      Object.assign(process.env, env);
      vi.resetModules();
      const module = await import('../../functions/sender.ts');
      closeSession = module.closeSenderSession;
      return module.handler;
    },
    closeSession: () => closeSession(),
    restoreEnv() {
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
    },
    eventSource(handler, queueUrl, options = {}) {
      const reports: BatchReport[] = [];
      const source = createSqsEventSource({
        sqs: sqs.client,
        queueUrl,
        handler,
        region: sqs.region,
        waitTimeSeconds: 1,
        ...options,
        onBatch: (report) => {
          reports.push(report);
          options.onBatch?.(report);
        },
      });
      return Object.assign(source, { reports });
    },
    async enqueue(queueUrl, bodies, extra = () => ({})) {
      const ids: string[] = [];
      for (const [i, body] of bodies.entries()) {
        const { MessageId } = await sqs.client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
            ...extra(i),
          }),
        );
        ids.push(MessageId!);
      }
      return ids;
    },
    async receiveAll(queueUrl) {
      const all: Message[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            VisibilityTimeout: 60,
          }),
        );
        if (Messages.length === 0) return all;
        all.push(...Messages);
      }
    },
    captureLogs() {
      const lines: LogLine[] = [];
      const json: Record<string, unknown>[] = [];
      const capture = (chunk: string | Uint8Array) => {
        for (const line of String(chunk).split('\n')) {
          if (!line.trim().startsWith('{')) continue;
          const parsed = JSON.parse(line) as LogLine;
          json.push(parsed);
          if (typeof parsed.level === 'string') lines.push(parsed);
        }
        return true;
      };
      const spies = [
        vi.spyOn(process.stdout, 'write').mockImplementation(capture),
        vi.spyOn(process.stderr, 'write').mockImplementation(capture),
      ];
      return {
        lines,
        json,
        stop: () => {
          for (const spy of spies) spy.mockRestore();
        },
      };
    },
    async stop() {
      await world.closeSession();
      world.restoreEnv();
      await Promise.allSettled([smtp.stop(), tokens.stop(), sqs.stop()]);
    },
  };
  return world;
}

/** A valid message body. */
export function mail(
  subject: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { to: ['ann@example.com'], subject, text: `body of ${subject}`, ...extra };
}

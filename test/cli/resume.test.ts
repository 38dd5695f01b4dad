/**
 * `o365-mail resume`: as a user runs it (its own process) against a breaker state in dynalite, and
 * in-process for the AWS side, where the sender's event source mapping is switched back on
 * (the Lambda API mocked: there is no Lambda emulator).
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOutput } from '../../lib/cli/output.ts';
import { resume } from '../../lib/cli/run-resume.ts';
import { DynamoDbBreakerStore } from '../../lib/guards/breaker/dynamodb-breaker-store.ts';
import { FileBreakerStore } from '../../lib/guards/breaker/file-breaker-store.ts';
import { writeLocalState } from '../../lib/local/local-state.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';
import { runCli } from './run-cli.ts';

let dynamo: DynamoDbEmulator;
let table: string;
beforeAll(async () => {
  dynamo = await startDynamoDbEmulator();
  table = await dynamo.createTable('state');
});
afterAll(() => dynamo.stop());

const WHY = {
  cause: 'config',
  reason: 'Token request refused: AADSTS7000222 the client secret expired',
  fix: 'create a new client secret and put it in the secret',
} as const;
const store = (queue: string) =>
  new DynamoDbBreakerStore({ client: dynamo.client, tableName: table, queueName: queue });

describe('o365-mail resume', () => {
  const env = () => ({
    MAIL_STATE_TABLE: table,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: dynamo.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });

  it('says why consuming was paused, resumes it, and has nothing to do the second time', async () => {
    await store('mail').pause(WHY, Date.UTC(2026, 10, 27, 23, 5));
    const queue = 'http://127.0.0.1:9324/000000000000/mail';
    const first = await runCli(['resume', '--queue-url', queue], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `Consuming of mail was paused since 2026-11-27T23:05:00.000Z (configuration error: ${WHY.reason}).\n✓ Consuming resumed.\n`,
    );
    expect(await store('mail').read()).toMatchObject({ paused: false });

    const again = await runCli(['resume', '--queue-url', queue, '--json'], { env: env() });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ queue: 'mail', wasPaused: false, resumed: false });
  });

  it('resumes the local pipeline of npm start through its state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'o365-resume-'));
    const breakerFile = join(dir, 'breaker.json');
    await new FileBreakerStore(breakerFile).pause({ ...WHY, cause: 'outage' }, 0);
    const stateFile = join(dir, 'pipeline.json');
    writeLocalState(
      {
        version: 1,
        // This test's process stands in for the running pipeline.
        pid: process.pid,
        startedAt: new Date().toISOString(),
        sqsEndpoint: 'http://127.0.0.1:9324',
        region: 'us-east-1',
        queueUrl: 'http://127.0.0.1:9324/000000000000/o365-mail',
        dlqUrl: 'http://127.0.0.1:9324/000000000000/o365-mail-dlq',
        smtp: { kind: 'capture', host: '127.0.0.1', port: 2525, outboxDir: dir },
        breakerFile,
      },
      stateFile,
    );
    const run = await runCli(['resume'], { env: { O365_LOCAL_STATE_FILE: stateFile } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Consuming of o365-mail was paused since .* \(outage: /);
    expect(await new FileBreakerStore(breakerFile).read()).toMatchObject({ paused: false });
  });

  it('asks for the breaker state when there is none to find', async () => {
    const run = await runCli(['resume', '--queue-url', 'http://127.0.0.1:9324/000000000000/mail']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/No breaker state found for mail: pass --state-table/);
  });
});

describe('resume in AWS', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());
  const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/o365-mail';
  const queueArn = 'arn:aws:sqs:eu-west-1:123456789012:o365-mail';

  it("switches the queue's mapping on and resumes the breaker in the table the sender uses", async () => {
    // The table is dynalite's: the SDK takes its endpoint and credentials from the environment.
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      await store('o365-mail').pause(WHY, 1_000);
      lambda.on(ListEventSourceMappingsCommand).resolves({
        EventSourceMappings: [
          { UUID: 'uuid-1', EventSourceArn: queueArn, FunctionArn: 'arn:aws:lambda:fn' },
        ],
      });
      lambda.on(GetFunctionConfigurationCommand).resolves({
        Environment: { Variables: { MAIL_STATE_TABLE: table } },
      });
      lambda.on(UpdateEventSourceMappingCommand).resolves({});
      const lines: string[] = [];
      const out = createOutput(false, {
        stdout: { write: (s: string) => lines.push(s) } as never,
        stderr: { write: (s: string) => lines.push(s) } as never,
        env: {},
      });
      const target = {
        source: 'flags' as const,
        queueUrl,
        region: 'eu-west-1',
        local: false,
        client: new SQSClient({ region: 'eu-west-1' }),
      };
      const code = await resume(target, out, { env: {} });
      expect(code).toBe(0);
      expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]?.args[0].input).toEqual({
        UUID: 'uuid-1',
        Enabled: true,
      });
      expect(lines.join('')).toMatch(
        /Event source mapping uuid-1 switched on\.\n✓ Consuming resumed\./,
      );
      expect(await store('o365-mail').read()).toMatchObject({ paused: false });
    } finally {
      for (const key of [
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});

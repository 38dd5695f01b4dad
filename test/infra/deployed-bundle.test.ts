/**
 * The sender exactly as the stack bundles it (same esbuild options; mail-sender.test.ts checks the
 * bytes match), run against the emulators: catches what only breaks after bundling (CommonJS
 * `require` in ESM, tree-shaken SDK pieces, missing assets) before it breaks in Lambda.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntries } from '../../infra/sender-bundling.ts';
import {
  mail,
  type SenderHandler,
  type SenderWorld,
  startSenderWorld,
} from '../e2e/sender-world.ts';

describe('the deployed sender bundle', () => {
  let world: SenderWorld;
  let bundle: string;

  beforeAll(async () => {
    world = await startSenderWorld();
    bundle = join(mkdtempSync(join(tmpdir(), 'o365-bundle-')), 'index.mjs');
    await build({ ...esbuildOptions(functionEntries.sender, bundle), logLevel: 'silent' });
  });
  afterAll(async () => {
    world.restoreEnv();
    await world.stop();
  });

  it('sends through Office 365 with OAuth and dead-letters what is invalid', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    Object.assign(process.env, world.env(queueUrl, dlqUrl));
    const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: SenderHandler };

    await world.enqueue(queueUrl, [mail('sent by the bundle'), '{"not": "a mail message"}']);
    await world.eventSource(handler, queueUrl).runUntilIdle({ includeInvisible: true });

    expect(world.smtp.messages.map((m) => [m.subject, m.authMethod])).toEqual([
      ['sent by the bundle', 'XOAUTH2'],
    ]);
    const dead = await world.receiveAll(dlqUrl);
    expect(dead.map((m) => m.MessageAttributes?.FailureClass?.StringValue)).toEqual(['invalid']);
  });
});

/**
 * The sender exactly as the stack bundles it (same esbuild options; mail-sender.test.ts checks the
 * bytes match), run against the emulators: catches what only breaks after bundling (CommonJS
 * `require` in ESM, tree-shaken SDK pieces, missing assets, the packages the bundle replaces with a
 * stand-in) before it breaks in Lambda.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntries } from '../../infra/sender-bundling.ts';
import {
  mail,
  type SenderHandler,
  type SenderWorld,
  startSenderWorld,
} from '../e2e/sender-world.ts';
import { loadTestPki } from '../emulators/test-pki.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

let bundle: string;
let metafile: Metafile;

beforeAll(async () => {
  bundle = join(mkdtempSync(join(tmpdir(), 'o365-bundle-')), 'index.mjs');
  // The metafile only describes the build; the bundle's bytes are the same without it.
  ({ metafile } = await build({
    ...esbuildOptions(functionEntries.sender, bundle),
    metafile: true,
    logLevel: 'silent',
  }));
});

/** A fresh module instance of the bundle per test, as a new Lambda sandbox would load it. */
async function loadBundle(tag: string): Promise<SenderHandler> {
  const url = `${pathToFileURL(bundle).href}?${tag}`;
  return ((await import(url)) as { handler: SenderHandler }).handler;
}

describe('the deployed sender bundle', () => {
  let world: SenderWorld;

  beforeAll(async () => {
    world = await startSenderWorld();
  });
  afterAll(async () => {
    world.restoreEnv();
    await world.stop();
  });

  it('sends through Office 365 with OAuth and dead-letters what is invalid', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    Object.assign(process.env, world.env(queueUrl, dlqUrl));
    const handler = await loadBundle('secret');

    await world.enqueue(queueUrl, [mail('sent by the bundle'), '{"not": "a mail message"}']);
    await world.eventSource(handler, queueUrl).runUntilIdle({ includeInvisible: true });

    expect(world.smtp.messages.map((m) => [m.subject, m.authMethod])).toEqual([
      ['sent by the bundle', 'XOAUTH2'],
    ]);
    const dead = await world.receiveAll(dlqUrl);
    expect(dead.map((m) => m.MessageAttributes?.FailureClass?.StringValue)).toEqual(['invalid']);
  });
});

describe('what the deployed sender bundle loads at initialisation', () => {
  it('takes nodemailer from its CommonJS build and leaves the DynamoDB client to its first use', async () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.filter((f) => f.includes('nodemailer/'))).not.toEqual([]);
    // The ES build imports node:http as an ES module, which makes Node load its fetch (undici).
    expect(inputs.filter((f) => f.includes('nodemailer/dist/esm/'))).toEqual([]);
    const { readFile } = await import('node:fs/promises');
    const code = await readFile(bundle, 'utf8');
    expect(code).not.toMatch(/\bfrom\s*"node:https?"/);
    // An external package imported statically is loaded with the bundle, whatever uses it.
    expect(code).not.toMatch(/\bfrom\s*"@aws-sdk\/client-dynamodb"/);
    expect(code).toMatch(/import\("@aws-sdk\/client-dynamodb"\)/);
  });
});

describe('the deployed sender bundle with a certificate credential', () => {
  const pki = loadTestPki();
  let entra: TokenEndpoint;
  let world: SenderWorld;

  beforeAll(async () => {
    // No secret for this app: a token is issued only for a client assertion signed by the
    // certificate's key (the endpoint checks signature, thumbprint, iss/sub/aud and expiry).
    entra = await startTokenEndpoint({
      clients: { 'cert-client': { certificatePem: pki.clientCertPem } },
    });
    world = await startSenderWorld({ tokenEndpoint: entra });
  });
  afterAll(async () => {
    world.restoreEnv();
    await Promise.allSettled([world.stop(), entra.stop()]);
  });

  it('signs its client assertion without jsonwebtoken, and the token endpoint accepts it', async () => {
    const bundled = Object.keys(metafile.inputs);
    expect(bundled).toContain('lib/bundle/jsonwebtoken-sign.ts');
    expect(bundled.filter((f) => /node_modules\/(jsonwebtoken|jws|jwa|semver)\//.test(f))).toEqual(
      [],
    );

    const { queueUrl, dlqUrl } = await world.queues();
    Object.assign(
      process.env,
      world.env(queueUrl, dlqUrl, {
        O365_TENANT_ID: entra.tenantId,
        O365_AUTHORITY_HOST: entra.authorityHost,
        O365_CLIENT_ID: 'cert-client',
        O365_CLIENT_SECRET: undefined,
        O365_CLIENT_CERTIFICATE: pki.clientCertPem,
        O365_CLIENT_PRIVATE_KEY: pki.clientKeyPem,
      }),
    );
    delete process.env.O365_CLIENT_SECRET;
    const handler = await loadBundle('certificate');

    await world.enqueue(queueUrl, [mail('signed by the stand-in')]);
    await world.eventSource(handler, queueUrl).runUntilIdle({ includeInvisible: true });

    expect(world.smtp.messages.map((m) => [m.subject, m.authMethod])).toEqual([
      ['signed by the stand-in', 'XOAUTH2'],
    ]);
    expect(entra.tokensIssued).toBe(1);
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
  });
});

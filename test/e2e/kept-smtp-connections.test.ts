/**
 * `KeptSmtpConnections` and the per-batch `SmtpSession` over it, against the Office 365 emulator
 * and the token endpoint (through a TCP relay that can cut the line): what a batch gets, what it
 * counts, and what happens to a connection that went quiet. The clock is injected; nothing sleeps.
 */

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { SenderConfig } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { KeptSmtpConnections } from '../../lib/transport/smtp/kept-smtp-connections.ts';
import { SmtpSession } from '../../lib/transport/smtp/smtp-session.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import { startTcpRelay, type TcpRelay } from './tcp-relay.ts';

const SENDER = 'mailer@contoso.com';
let entra: TokenEndpoint;
let o365: Office365Smtp;
let relay: TcpRelay;
let keepers: KeptSmtpConnections[] = [];
let clock = 0;

beforeAll(async () => {
  entra = await startTokenEndpoint();
  o365 = await startOffice365Smtp({ tokenEndpoint: entra });
  relay = await startTcpRelay(o365);
});
beforeEach(() => {
  o365.reset();
  entra.reset();
  clearTokenProviderCache();
  clock = 1_000_000;
});
afterEach(async () => {
  await Promise.all(keepers.map((k) => k.close()));
  keepers = [];
});
afterAll(async () => {
  await relay.stop();
  await o365.stop();
  await entra.stop();
});

function config(keepAliveSeconds: number, socketTimeoutMs: number): SenderConfig {
  const oauth = {
    tenantId: entra.tenantId,
    clientId: 'test-client',
    authorityHost: entra.authorityHost,
    scope: 'https://outlook.office365.com/.default',
    clientSecret: 'test-secret',
  };
  return {
    dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
    sender: SENDER,
    allowedFrom: [SENDER],
    smtp: {
      host: relay.host,
      port: relay.port,
      tls: 'starttls',
      auth: 'oauth2',
      allowPlaintext: false,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      socketTimeoutMs,
      keepAliveSeconds,
    },
    oauth,
  };
}

function keeper(keepAliveSeconds = 60, checkTimeoutMs = 5_000, socketTimeoutMs = 5_000) {
  const cfg = config(keepAliveSeconds, socketTimeoutMs);
  const tokenProvider = createTokenProvider(cfg.oauth);
  const logged: string[] = [];
  const log = (message: string) => {
    logged.push(message);
  };
  const logger = { debug: log, info: log, warn: log, error: log };
  const kept = new KeptSmtpConnections(cfg, tokenProvider, {
    now: () => clock,
    checkTimeoutMs,
    logger,
  });
  keepers.push(kept);
  return {
    kept,
    logged,
    /** One batch: a session over the keeper, `n` messages, closed. Returns its outcomes and counters. */
    async batch(n = 2) {
      const session = new SmtpSession(kept);
      const outcomes = [];
      for (let i = 0; i < n; i++) {
        outcomes.push(
          (
            await session.send(
              await composeMime({
                from: SENDER,
                to: 'ann@example.com',
                subject: `m${i}`,
                text: 'x',
              }),
            )
          ).kind,
        );
      }
      await session.close();
      return { outcomes, stats: { ...session.stats } };
    },
  };
}

describe('KeptSmtpConnections', () => {
  it("counts each batch's own handshakes: the first opens, the next reuses", async () => {
    const { kept, batch } = keeper();
    const first = await batch();
    clock += 100;
    const second = await batch();
    expect(first).toEqual({
      outcomes: ['sent', 'sent'],
      stats: { connections: 1, logins: 1, sent: 2, resets: 0 },
    });
    expect(second).toEqual({
      outcomes: ['sent', 'sent'],
      stats: { connections: 0, logins: 0, sent: 2, resets: 0 },
    });
    expect(kept.stats).toEqual({ connections: 1, logins: 1, reused: 1, retired: 0 });
    expect(o365.stats.connections).toBe(1);
  });

  it('batches running at once get a connection each, and both are kept for the next two', async () => {
    const { kept, batch } = keeper();
    await Promise.all([batch(), batch()]);
    await Promise.all([batch(), batch()]);
    expect(o365.stats.connections).toBe(2);
    expect(o365.messages).toHaveLength(8);
    expect(new Set(o365.messages.map((m) => m.connectionId)).size).toBe(2);
    expect(kept.stats.reused).toBe(2);
  });

  it('a connection that went silent (no answer, no reset) is replaced when its check times out', async () => {
    // A socket timeout past the test's own: only the check's bound can end the wait.
    const { kept, batch } = keeper(60, 200, 120_000);
    await batch();
    relay.blackhole();
    clock += 10_000;
    const second = await batch();
    expect(second.outcomes).toEqual(['sent', 'sent']);
    expect(second.stats.connections).toBe(1);
    expect(kept.stats).toMatchObject({ connections: 2, retired: 1, reused: 0 });
  });

  it('notices when the server closes an idle connection, and the next batch opens a new one without a check', async () => {
    const { kept, logged, batch } = keeper();
    await batch();
    relay.dropAll();
    await vi.waitFor(() =>
      expect(logged).toContain('SMTP session closed by the server while idle'),
    );
    clock += 10_000;
    const second = await batch();
    expect(second.outcomes).toEqual(['sent', 'sent']);
    expect(second.stats.connections).toBe(1);
    expect(kept.stats).toMatchObject({ reused: 0, retired: 0 });
    expect(o365.stats.resetChecks).toBe(0);
  });

  it('close() QUITs the idle connection; a later batch opens a new one', async () => {
    const { kept, batch } = keeper();
    await batch();
    await kept.close();
    await o365.waitForOpenConnections(0);
    expect(o365.stats.commands.QUIT).toBe(1);
    await batch();
    expect(o365.stats.connections).toBe(2);
  });
});

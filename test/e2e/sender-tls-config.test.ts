/**
 * TLS failures through the real handler: a server that offers only TLS 1.0/1.1, or a certificate
 * the sender cannot trust, stops the batch as a configuration error: nothing sent, nothing
 * dead-lettered, one ERROR line with the fix, and ConfigErrors counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTlsFaultServer, type TlsFault } from '../emulators/tls-fault-server.ts';
import { mail, type SenderWorld, startSenderWorld } from './sender-world.ts';

let world: SenderWorld;
beforeAll(async () => {
  world = await startSenderWorld();
});
afterAll(() => world.stop());

describe('sender end to end: TLS failures are configuration errors', () => {
  it.each<[TlsFault, RegExp]>([
    [
      'tls-1.1-only',
      /TLS older than 1\.2.*Likely fix: Point SMTP_HOST at a server that speaks TLS 1\.2/,
    ],
    ['untrusted', /certificate not trusted.*Likely fix: .*NODE_EXTRA_CA_CERTS/],
  ])(
    '%s: nothing sent, all retried, one ERROR with the fix, ConfigErrors counted',
    async (fault, wording) => {
      const server = await startTlsFaultServer(fault);
      try {
        const { queueUrl, dlqUrl } = await world.queues();
        const handler = await world.loadHandler(
          world.env(queueUrl, dlqUrl, {
            SMTP_PORT: String(server.port),
            POWERTOOLS_LOG_LEVEL: 'INFO',
            POWERTOOLS_METRICS_DISABLED: 'false',
          }),
        );
        const ids = await world.enqueue(queueUrl, [mail('one'), mail('two'), mail('three')]);
        const source = world.eventSource(handler, queueUrl);
        const out = world.captureLogs();
        try {
          await source.runUntilIdle();
        } finally {
          out.stop();
        }
        expect(server.commandsAfterTls).toBe(0);
        expect(await world.receiveAll(dlqUrl)).toEqual([]);
        const failed = source.reports.flatMap((r) => r.response?.batchItemFailures ?? []);
        expect(failed.map((f) => f.itemIdentifier).sort()).toEqual([...ids].sort());

        const errors = out.lines.filter((l) => l.level === 'ERROR');
        expect(errors).toHaveLength(1);
        expect(errors[0]!.message).toMatch(wording);
        // Not a "Temporary failure" anywhere: no INFO line calls it one.
        expect(JSON.stringify(out.lines)).not.toContain('Temporary failure');
        const configErrors = out.json
          .filter((l) => l._aws !== undefined)
          .reduce((sum, l) => sum + Number(l.ConfigErrors ?? 0), 0);
        expect(configErrors).toBe(1);
      } finally {
        await server.stop();
      }
    },
  );
});

/**
 * The High Volume Email preset end to end: SMTP_ENDPOINT=hve against the SMTP emulator in HVE mode
 * (tokens need Exchange's Mail.Send, external recipients get `550 5.5.105`). Messages over HVE's 50
 * recipients or 10 MB are dead-lettered before anything is sent; an external recipient is
 * dead-lettered with the fix.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAIL_SEND_ROLE } from '../emulators/token-endpoint.ts';
import { mail, type SenderWorld, startSenderWorld } from './sender-world.ts';

let world: SenderWorld;
beforeAll(async () => {
  world = await startSenderWorld(
    { hve: { internalDomains: ['contoso.com'] } },
    // The app has Exchange's Mail.Send (and Add-HVEAppAccess), not SMTP.SendAsApp.
    { clients: { 'test-client': { secret: 'test-secret', roles: [MAIL_SEND_ROLE] } } },
  );
  const s3 = new S3Client({
    endpoint: world.sqs.endpoint,
    region: world.sqs.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'hve-files' }));
  await s3.send(
    new PutObjectCommand({ Bucket: 'hve-files', Key: 'big.bin', Body: Buffer.alloc(8_000_000, 1) }),
  );
  s3.destroy();
});
afterAll(() => world.stop());
beforeEach(() => world.smtp.reset());
afterEach(() => world.restoreEnv());

describe('sender end to end: the High Volume Email preset', () => {
  it('sends internal mail, and dead-letters external recipients and messages over 50 recipients or 10 MB with the reason', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl, { SMTP_ENDPOINT: 'hve' }));
    const internal = (n: number) => Array.from({ length: n }, (_, i) => `staff${i}@contoso.com`);
    await world.enqueue(queueUrl, [
      mail('all hands', { to: internal(50) }),
      mail('to a customer', { to: ['customer@example.com'] }),
      mail('too many', { to: internal(40), cc: internal(11).map((a) => `cc-${a}`) }),
      mail('too big', {
        to: ['staff@contoso.com'],
        attachments: [{ filename: 'big.bin', s3: { bucket: 'hve-files', key: 'big.bin' } }],
      }),
    ]);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle({ includeInvisible: true });

    expect(world.smtp.messages.map((m) => m.subject)).toEqual(['all hands']);
    expect(world.smtp.messages[0]).toMatchObject({ authMethod: 'XOAUTH2' });
    expect(world.smtp.messages[0]!.envelope.to).toHaveLength(50);
    const dead = new Map(
      (await world.receiveAll(dlqUrl)).map((m) => [
        (JSON.parse(m.Body!) as { subject: string }).subject,
        {
          failureClass: m.MessageAttributes?.FailureClass?.StringValue,
          reason: m.MessageAttributes?.FailureReason?.StringValue ?? '',
        },
      ]),
    );
    expect(dead.get('to a customer')).toEqual({
      failureClass: 'rejected',
      reason: expect.stringContaining('550 5.5.105 External sending is not supported'),
    });
    expect(dead.get('too many')).toEqual({
      failureClass: 'rejected',
      reason: expect.stringMatching(
        /^Too many recipients for High Volume Email: 51 \(to, cc and bcc together\), at most 50 per message; not sent\. Fix: split/,
      ),
    });
    expect(dead.get('too big')).toEqual({
      failureClass: 'rejected',
      reason: expect.stringMatching(
        /^Message too large for High Volume Email: 10\.\d MB as MIME .* at most 10\.0 MB; not sent\./,
      ),
    });
    // Nothing was retried; the two refused before sending never reached the server.
    expect(source.reports.flatMap((r) => r.failed)).toEqual([]);
    expect(world.smtp.stats.commands.MAIL ?? 0).toBe(2);
  });
});

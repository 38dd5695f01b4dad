import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedSqs } from '../../lib/local/embedded-sqs.ts';
import { onLoopbackOnly } from '../../lib/local/loopback-only.ts';

const open: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise((done) => s.close(done))));
});

function listen(host: string): Promise<string> {
  const server = createServer();
  open.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host }, () => resolve((server.address() as AddressInfo).address));
  });
}

/** The local addresses of sockets listening on `port`, from the kernel's own table (Linux). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').trim().split('\n').slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter(([, local, , state]) => state === '0A' && local?.endsWith(`:${hexPort}`))
    .map(([, local]) => local?.split(':')[0] ?? '');
}

describe('onLoopbackOnly', () => {
  it('binds a server asking for every interface to 127.0.0.1, and only while it runs', async () => {
    expect(await onLoopbackOnly(() => listen('0.0.0.0'))).toBe('127.0.0.1');
    expect(await onLoopbackOnly(() => listen('::'))).toBe('127.0.0.1');
    expect(await listen('0.0.0.0')).toBe('0.0.0.0');
  });

  it('stays in place until the last of overlapping calls is done', async () => {
    let release: () => void = () => {};
    const first = onLoopbackOnly(() => new Promise<void>((done) => (release = done)));
    expect(await onLoopbackOnly(() => listen('0.0.0.0'))).toBe('127.0.0.1');
    expect(await onLoopbackOnly(() => listen('0.0.0.0'))).toBe('127.0.0.1');
    release();
    await first;
    expect(await listen('0.0.0.0')).toBe('0.0.0.0');
  });
});

describe('the local SQS emulator', () => {
  it.runIf(existsSync('/proc/net/tcp'))('listens on 127.0.0.1 only', async () => {
    const sqs = await startEmbeddedSqs(0);
    try {
      // 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
      expect(listeningAddresses(sqs.server.port)).toEqual(['0100007F']);
    } finally {
      await sqs.stop();
    }
  });
});

import { Server } from 'node:net';

type Listen = (this: Server, ...args: unknown[]) => Server;

const original = Server.prototype.listen as Listen;
let active = 0;

/** `listen` as Node has it, except that a request for every interface gets 127.0.0.1 only. */
const loopbackListen: Listen = function (this, ...args) {
  const [options] = args;
  if (typeof options === 'object' && options !== null && 'host' in options) {
    const host = (options as { host?: unknown }).host;
    if (host === '0.0.0.0' || host === '::') args[0] = { ...options, host: '127.0.0.1' };
  }
  return original.apply(this, args);
};

/**
 * Runs `start`, binding any server it opens on all interfaces to 127.0.0.1 instead. fauxqs 2.4
 * always listens on 0.0.0.0 (its `host` option only names the queue URLs, and it has no option
 * for the address it binds); an emulator without authentication must not be reachable from the
 * network. Servers that name their own address are left alone; nesting and overlapping calls are
 * fine (the first in installs, the last out restores).
 */
export async function onLoopbackOnly<T>(start: () => Promise<T>): Promise<T> {
  if (active++ === 0) Server.prototype.listen = loopbackListen as Server['listen'];
  try {
    return await start();
  } finally {
    if (--active === 0) Server.prototype.listen = original as Server['listen'];
  }
}

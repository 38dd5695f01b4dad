/**
 * Authenticated SMTP connections kept between batches, so a warm sender pays the connect, TLS and
 * AUTH round trips once per keep-alive window instead of once per batch. It lives as long as the
 * sender runtime (the module scope of a warm Lambda, like the MSAL token cache); each batch borrows
 * one connection for its duration (`SmtpSession` is the per-batch view) and gives it back.
 *
 * - Idle longer than the window: QUIT and replaced. An unref'd timer does it in a process that runs
 *   (local runs); a frozen Lambda sandbox runs no timers, so `borrow` checks the window too.
 * - Idle longer than `checkAfterIdleMs` (the sandbox was frozen or the queue quiet, and Exchange may
 *   have dropped it: `421 4.4.1 Connection timed out`): one RSET before it is lent; a failed check
 *   opens a new connection instead, silently. Back-to-back batches skip the check.
 * - While idle the socket is unref'd and its inactivity timeout suspended: an idle connection never
 *   keeps a process alive, and its lifetime is the window, not `SMTP_SOCKET_TIMEOUT_MS`.
 *
 * Usually one connection: a Lambda sandbox runs one batch at a time. A process running batches in
 * parallel (the local pipeline) borrows one per batch and keeps up to that many.
 *
 * With a {@link ConnectionLease} (`MAIL_MAX_CONNECTIONS`), every connection lives under a lease:
 * taken before connecting (waiting briefly for a free slot, else {@link NoConnectionSlotError}),
 * renewed when a kept connection is lent again, shortened to the keep-alive window when it goes
 * idle, and released once it is closed. A connection whose lease lapsed is QUIT, never reused:
 * another sandbox may hold its slot. A holder that vanishes (a frozen or killed sandbox) frees its
 * slot when the lease lapses; docs/operations.md weighs that against how long the server keeps
 * the vanished holder's session open.
 *
 * Hand-written rather than nodemailer's pool: the pool drops a connection after any refused message
 * and knows nothing of frozen processes (see `smtp-session.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { SenderConfig } from '../../config/sender-config.ts';
import { MailQueueError } from '../../errors.ts';
import type { ConnectionLease, TokenProvider } from '../../types.ts';
import {
  type OpenConnectionOptions,
  type OpenCounters,
  openSmtpConnection,
} from './open-smtp-connection.ts';
import type { SmtpPipeline } from './smtp-pipeline.ts';

/** The subset of a structured logger (Powertools Logger fits) the SMTP code writes to. */
export interface SessionLogger {
  /** Per-batch detail (a session reused); dropped when absent. */
  debug?(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface KeptConnectionsOptions extends OpenConnectionOptions {
  /** @default no logging */
  logger?: SessionLogger;
  /** Longest idle time before an idle connection is QUIT; 0 = QUIT when given back. @default `smtp.keepAliveSeconds`, else 0 */
  keepAliveMs?: number;
  /** Idle time after which a connection is checked with RSET before it is lent. @default 1000 */
  checkAfterIdleMs?: number;
  /** Longest wait for the RSET check's answer before the connection is replaced. @default 5000 */
  checkTimeoutMs?: number;
  /** Clock for idle times (ms). @default Date.now */
  now?: () => number;
  /** Caps the mailbox's connections across processes (`MAIL_MAX_CONNECTIONS`). @default no cap */
  lease?: ConnectionLease;
}

/**
 * An idle connection's lease outlives its keep-alive window by this much, so the lease never
 * lapses while the connection may still be lent again.
 */
export const IDLE_LEASE_MARGIN_MS = 5_000;

/** Every connection slot of the mailbox stayed taken while this batch waited: retry it later. */
export class NoConnectionSlotError extends MailQueueError {
  readonly inUse: number;
  readonly max: number;
  constructor(mailbox: string, inUse: number, max: number, options?: { cause?: unknown }) {
    const why =
      max > 0
        ? `all ${max} SMTP connections of ${mailbox} are in use (${inUse} held across the senders)`
        : `the connection lease of ${mailbox} could not be checked`;
    super(`${why}; the batch is retried later`, options);
    this.name = 'NoConnectionSlotError';
    this.inUse = inUse;
    this.max = max;
  }
}

/** Counters over the keeper's lifetime: the bench and tests count handshakes with them. */
export interface KeptConnectionsStats {
  /** Connections opened (each one TLS handshake). */
  connections: number;
  /** Successful AUTH exchanges. */
  logins: number;
  /** Batches that got a kept connection instead of a new one. */
  reused: number;
  /** Kept connections closed for idling past the window or failing the check. */
  retired: number;
}

/** One connection and what the keeper knows of it. */
export interface KeptConnection {
  readonly conn: SmtpPipeline;
  /** False once the connection ended (server closed it, an error, QUIT). */
  readonly alive: boolean;
}

class Entry implements KeptConnection {
  readonly conn: SmtpPipeline;
  /** Its name in the connection lease. */
  readonly holder: string;
  alive = true;
  /** Holds a lease slot (until released after the connection closed). */
  leased: boolean;
  idleSince = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(conn: SmtpPipeline, holder: string, leased: boolean) {
    this.conn = conn;
    this.holder = holder;
    this.leased = leased;
  }
}

export class KeptSmtpConnections {
  readonly stats: KeptConnectionsStats = { connections: 0, logins: 0, reused: 0, retired: 0 };
  readonly #config: SenderConfig;
  readonly #tokens: TokenProvider | undefined;
  readonly #options: KeptConnectionsOptions;
  readonly #keepAliveMs: number;
  readonly #now: () => number;
  /** Idle connections, the most recently used last. */
  readonly #idle: Entry[] = [];

  constructor(
    config: SenderConfig,
    tokens: TokenProvider | undefined,
    options: KeptConnectionsOptions = {},
  ) {
    this.#config = config;
    this.#tokens = tokens;
    this.#options = options;
    this.#keepAliveMs = options.keepAliveMs ?? (config.smtp.keepAliveSeconds ?? 0) * 1000;
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * A working, authenticated connection: a kept one when it is still good, else a new one. Rejects
   * with the open error. `counters` also counts what this call opened (a batch's own figures).
   */
  async borrow(counters?: OpenCounters): Promise<KeptConnection> {
    for (let entry = this.#idle.pop(); entry; entry = this.#idle.pop()) {
      const idleMs = this.#now() - entry.idleSince;
      wake(entry, this.#socketTimeoutMs);
      if (!entry.alive) continue;
      if (idleMs > this.#keepAliveMs) {
        this.#retire(entry, 'idle past the keep-alive window', idleMs);
        continue;
      }
      if (!(await this.#renew(entry, this.#options.lease?.inUseMs ?? 0)).ok) {
        this.#retire(
          entry,
          'its connection lease lapsed (another sender may hold the slot)',
          idleMs,
        );
        continue;
      }
      if (idleMs > (this.#options.checkAfterIdleMs ?? 1_000) && !(await this.#check(entry))) {
        this.#retire(entry, 'the server no longer answers on it (checked with RSET)', idleMs);
        continue;
      }
      this.stats.reused++;
      this.#options.logger?.debug?.('SMTP session reused', { idleMs });
      return entry;
    }
    return this.#open(counters);
  }

  /**
   * Takes a connection back after a batch: kept for the window, or QUIT when there is none, when
   * its lease cannot be extended to cover the window, or when another sender waits for a slot.
   */
  async giveBack(kept: KeptConnection): Promise<void> {
    const entry = kept as Entry;
    if (!entry.alive) return this.#release(entry);
    if (this.#keepAliveMs <= 0) return this.#quit(entry);
    const lease = await this.#renew(entry, this.#keepAliveMs + IDLE_LEASE_MARGIN_MS);
    if (!lease.ok || lease.wanted) {
      this.#options.logger?.debug?.('SMTP session not kept', {
        reason: lease.ok ? 'another sender waits for a connection' : 'its lease lapsed',
      });
      return this.#quit(entry);
    }
    entry.idleSince = this.#now();
    entry.timer = setTimeout(() => {
      const at = this.#idle.indexOf(entry);
      if (at < 0) return;
      this.#idle.splice(at, 1);
      this.#retire(entry, 'idle past the keep-alive window', this.#now() - entry.idleSince);
    }, this.#keepAliveMs);
    entry.timer.unref();
    sleep(entry);
    this.#idle.push(entry);
  }

  /** Drops a connection that is not usable any more (it failed, or its batch stopped on a configuration error). */
  discard(kept: KeptConnection, how: 'quit' | 'close'): void {
    const entry = kept as Entry;
    if (!entry.alive) return;
    entry.alive = false;
    if (how === 'quit') void entry.conn.quit().then(() => this.#release(entry));
    else {
      entry.conn.close();
      void this.#release(entry);
    }
  }

  /** QUITs every idle connection (the process is stopping). Borrowed ones stay with their batch. */
  async close(): Promise<void> {
    const idle = this.#idle.splice(0);
    await Promise.all(
      idle.map((entry) => {
        wake(entry, this.#socketTimeoutMs);
        return this.#quit(entry);
      }),
    );
  }

  /** What nodemailer set on the socket at connect (`smtpConnectionOptions`). */
  get #socketTimeoutMs(): number {
    return this.#options.timeouts?.socketMs ?? this.#config.smtp.socketTimeoutMs;
  }

  async #open(counters?: OpenCounters): Promise<KeptConnection> {
    const holder = randomUUID();
    const leased = await this.#acquire(holder);
    const opened: OpenCounters = { connections: 0, logins: 0 };
    let conn: SmtpPipeline;
    try {
      conn = await openSmtpConnection(this.#config, this.#tokens, this.#options, opened);
    } catch (err) {
      // openSmtpConnection closed what it opened.
      if (leased) await this.#options.lease?.release(this.#config.sender, holder).catch(() => {});
      throw err;
    } finally {
      for (const into of [this.stats, counters]) {
        if (!into) continue;
        into.connections += opened.connections;
        into.logins += opened.logins;
      }
    }
    const entry = new Entry(conn, holder, leased);
    conn.once('end', () => {
      entry.alive = false;
      clearTimeout(entry.timer);
      void this.#release(entry);
      const at = this.#idle.indexOf(entry);
      if (at < 0) return;
      this.#idle.splice(at, 1);
      // Exchange's own idle timeout (421 4.4.1) or a network drop; the next batch opens a new one.
      this.#options.logger?.info('SMTP session closed by the server while idle', {
        idleMs: this.#now() - entry.idleSince,
      });
    });
    const { smtp } = this.#config;
    this.#options.logger?.info('SMTP session opened', {
      host: smtp.host,
      port: smtp.port,
      tls: conn.secure,
      auth: smtp.auth,
      keepAliveSeconds: this.#keepAliveMs / 1000,
    });
    return entry;
  }

  /** One RSET, bounded: a connection a NAT or the server dropped silently must not cost a socket timeout. */
  async #check(entry: Entry): Promise<boolean> {
    const timer = setTimeout(() => entry.conn.close(), this.#options.checkTimeoutMs ?? 5_000);
    timer.unref();
    try {
      await entry.conn.reset();
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #retire(entry: Entry, why: string, idleMs: number): void {
    this.stats.retired++;
    this.#options.logger?.info('SMTP session retired', { reason: why, idleMs });
    if (!entry.alive) return;
    void this.#quit(entry);
  }

  async #quit(entry: Entry): Promise<void> {
    clearTimeout(entry.timer);
    entry.alive = false;
    await entry.conn.quit();
    await this.#release(entry);
  }

  /** A slot for a new connection, or {@link NoConnectionSlotError}; `false` without a cap. */
  async #acquire(holder: string): Promise<boolean> {
    const lease = this.#options.lease;
    if (!lease) return false;
    const mailbox = this.#config.sender;
    let grant: Awaited<ReturnType<ConnectionLease['acquire']>>;
    try {
      grant = await lease.acquire(mailbox, holder, lease.inUseMs);
    } catch (err) {
      // Without the lease store no connection may be opened: the cap would not hold.
      throw new NoConnectionSlotError(mailbox, 0, 0, { cause: err });
    }
    if (!grant.ok) throw new NoConnectionSlotError(mailbox, grant.inUse, grant.max);
    return true;
  }

  /** Extends the entry's lease; always ok without a cap, never ok when the store fails. */
  async #renew(entry: Entry, ttlMs: number): Promise<{ ok: boolean; wanted: boolean }> {
    const lease = this.#options.lease;
    if (!lease || !entry.leased) return { ok: true, wanted: false };
    try {
      return await lease.renew(this.#config.sender, entry.holder, ttlMs);
    } catch (err) {
      this.#options.logger?.warn('connection lease renewal failed', { error: String(err) });
      return { ok: false, wanted: false };
    }
  }

  /** Frees the entry's slot once, after its connection closed; a failure leaves it to lapse. */
  async #release(entry: Entry): Promise<void> {
    if (!entry.leased) return;
    entry.leased = false;
    try {
      await this.#options.lease?.release(this.#config.sender, entry.holder);
    } catch (err) {
      this.#options.logger?.warn('connection lease release failed; it lapses by itself', {
        error: String(err),
      });
    }
  }
}

/** Idle: no inactivity timeout, and the socket does not keep the process alive. */
function sleep(entry: Entry): void {
  entry.conn.socket.setTimeout(0);
  entry.conn.socket.unref();
}

/** Back in use: the socket timeout applies again. */
function wake(entry: Entry, socketTimeoutMs: number): void {
  clearTimeout(entry.timer);
  entry.timer = undefined;
  entry.conn.socket.ref();
  if (entry.alive) entry.conn.socket.setTimeout(socketTimeoutMs);
}

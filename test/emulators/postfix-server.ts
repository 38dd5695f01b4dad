import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LatencyRelay, startLatencyRelay, type WireStats } from './latency-relay.ts';
import { loadTestPki } from './test-pki.ts';

const run = promisify(execFile);

/**
 * A real Postfix (Debian's package) for the tests, a second SMTP server beside the Office 365
 * emulator: its smtpd offers PIPELINING and CHUNKING and is strict about both
 * (`smtpd_forbid_unauth_pipelining`, `smtpd_forbid_bare_newline`), so the transaction layer is
 * checked against an implementation that is not ours.
 *
 * Each instance is private to its test file: its own configuration, queue and log under a temp
 * directory, smtpd on 127.0.0.1 at a free port, STARTTLS with the run's test certificate. Nothing
 * leaves the machine: every transport is `discard` (what is accepted is logged and dropped), the
 * master.cf has no SMTP/LMTP client, and nothing is local (`mydestination` is empty). Clients on
 * 127.0.0.1 may relay (that is `mynetworks`), with `SMTP_AUTH=none` on the sender side.
 *
 * Needs root (the master runs as root and its daemons as the `postfix` user): `.ci/run` installs
 * the package; without it, {@link postfixUnavailable} says why and the tests skip, unless
 * `O365_REQUIRE_POSTFIX=1` (CI) makes that a failure.
 */
export interface PostfixOptions {
  /** Offer CHUNKING (BDAT). @default true */
  chunking?: boolean;
  /** Offer PIPELINING. @default true */
  pipelining?: boolean;
  /** Put the latency relay in front (the wire stats count server flights). @default 0 */
  networkLatencyMs?: number;
  /** Recipients refused at RCPT TO, with the reply (`550 5.1.1 no such user`). @default none */
  refuseRecipients?: Record<string, string>;
}

export interface PostfixServer {
  host: '127.0.0.1';
  /** Where clients connect (the relay's port when `networkLatencyMs` is set). */
  port: number;
  /** Server flights on the relay (all zero without `networkLatencyMs`). */
  wire: WireStats;
  /**
   * Resolves with what Postfix took in, from its log, once `n` recipients were handed to the discard
   * agent (`to=<...> ... status=sent`); rejects after `timeoutMs` with the log.
   */
  waitForDelivered(
    n: number,
    timeoutMs?: number,
  ): Promise<{ recipients: string[]; messageIds: string[] }>;
  /** Its log so far (`maillog_file`). */
  log(): string;
  stop(): Promise<void>;
}

const POSTFIX = '/usr/sbin/postfix';
const MASTER = '/usr/lib/postfix/sbin/master';
/** Postfix's own list of the directories it needs, with owner, group and mode. */
const POSTFIX_FILES = '/etc/postfix/postfix-files';

/** Why no Postfix can be started here, or undefined when one can. */
export function postfixUnavailable(): string | undefined {
  if (!existsSync(POSTFIX)) return 'Postfix is not installed (apt-get install postfix)';
  if (process.getuid?.() !== 0) return 'starting Postfix needs root';
  return undefined;
}

/** For `describe.skipIf`: skip without Postfix, except where CI requires it. */
export function skipWithoutPostfix(): boolean {
  const why = postfixUnavailable();
  if (!why) return false;
  if (process.env.O365_REQUIRE_POSTFIX === '1') {
    throw new Error(`O365_REQUIRE_POSTFIX=1 but ${why}`);
  }
  return true;
}

export async function startPostfix(options: PostfixOptions = {}): Promise<PostfixServer> {
  const why = postfixUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'o365-postfix-'));
  const config = join(dir, 'config');
  for (const sub of ['config', 'tls']) mkdirSync(join(dir, sub));
  // The daemons run as the postfix user: they pass through the directory to their own.
  chmodSync(dir, 0o755);
  await makePostfixDirectories({
    queue_directory: join(dir, 'queue'),
    data_directory: join(dir, 'data'),
  });
  const pki = loadTestPki();
  writeFileSync(join(dir, 'tls', 'cert.pem'), `${pki.certPem}${pki.caPem}`);
  writeFileSync(join(dir, 'tls', 'key.pem'), pki.keyPem, { mode: 0o600 });
  const port = await freePort();
  const logFile = join(dir, 'maillog');
  const discard = [
    ...(options.chunking === false ? ['chunking'] : []),
    ...(options.pipelining === false ? ['pipelining'] : []),
  ];
  writeFileSync(join(config, 'main.cf'), mainCf(dir, logFile, discard, options.refuseRecipients));
  writeFileSync(join(config, 'master.cf'), masterCf(port));
  const postfix = (...args: string[]) => run(POSTFIX, ['-c', config, ...args]);
  try {
    // `master -w` returns once the master is ready (what `postfix start` ends with; its checks
    // before that take seconds on a busy machine and have nothing to check in this set-up).
    await run(MASTER, ['-c', config, '-w']);
    await waitForPort(port);
  } catch (err) {
    await postfix('stop').catch(() => undefined);
    const log = readLog(logFile);
    if (!process.env.O365_KEEP_POSTFIX_DIR) rmSync(dir, { recursive: true, force: true });
    const { message, stderr } = err as Error & { stderr?: string };
    throw new Error(`Postfix did not start (${dir}): ${message} ${stderr ?? ''}\n${log}`);
  }
  const latency = options.networkLatencyMs ?? 0;
  const relay: LatencyRelay | undefined =
    latency > 0 ? await startLatencyRelay({ targetPort: port, latencyMs: latency }) : undefined;
  return {
    host: '127.0.0.1',
    port: relay?.port ?? port,
    wire: relay?.wire ?? { serverFlights: 0 },
    waitForDelivered: (n, timeoutMs = 10_000) => waitForDelivered(dir, logFile, n, timeoutMs),
    log: () => readLog(logFile),
    async stop() {
      await relay?.stop();
      await postfix('stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function mainCf(
  dir: string,
  logFile: string,
  discardKeywords: string[],
  refuse: Record<string, string> = {},
): string {
  const drop = 'discard:the test server delivers nothing';
  const refusals = Object.entries(refuse).map(([address, reply]) => `{ ${address} = ${reply} }`);
  const refuseFirst = refusals.length
    ? `check_recipient_access inline:{ ${refusals.join(', ')} }, `
    : '';
  return `${[
    'compatibility_level = 3.6',
    `queue_directory = ${join(dir, 'queue')}`,
    `data_directory = ${join(dir, 'data')}`,
    `maillog_file = ${logFile}`,
    // Postfix writes a log file only under an allowed prefix (/var by default).
    `maillog_file_prefixes = ${dir}`,
    'myhostname = postfix.test.invalid',
    'mydomain = test.invalid',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    // Nothing is local and nothing is relayed anywhere: every transport drops the message.
    'mydestination =',
    'relay_domains =',
    'alias_maps =',
    'alias_database =',
    `default_transport = ${drop}`,
    `relay_transport = ${drop}`,
    `local_transport = ${drop}`,
    `virtual_transport = ${drop}`,
    'mynetworks = 127.0.0.0/8',
    `smtpd_relay_restrictions = ${refuseFirst}permit_mynetworks, reject`,
    'smtpd_recipient_restrictions = permit_mynetworks, reject',
    // Strict about RFC 2920/5321 input: a client that pipelines out of turn is disconnected.
    'smtpd_forbid_unauth_pipelining = yes',
    'smtpd_forbid_bare_newline = yes',
    `smtpd_discard_ehlo_keywords = ${discardKeywords.join(', ')}`,
    'smtpd_tls_security_level = may',
    `smtpd_tls_cert_file = ${join(dir, 'tls', 'cert.pem')}`,
    `smtpd_tls_key_file = ${join(dir, 'tls', 'key.pem')}`,
    'smtpd_tls_protocols = >=TLSv1.2',
    'smtpd_banner = $myhostname ESMTP',
    'biff = no',
    'append_dot_mydomain = no',
  ].join('\n')}\n`;
}

/** The daemons a receiving-only Postfix needs; no SMTP, LMTP, local or pipe delivery agents. */
function masterCf(port: number): string {
  return `${[
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup    unix n - n 60 1 pickup',
    'cleanup   unix n - n - 0 cleanup',
    'qmgr      unix n - n 300 1 qmgr',
    'tlsmgr    unix - - n 1000? 1 tlsmgr',
    'rewrite   unix - - n - - trivial-rewrite',
    'bounce    unix - - n - 0 bounce',
    'defer     unix - - n - 0 bounce',
    'trace     unix - - n - 0 bounce',
    'verify    unix - - n - 1 verify',
    'flush     unix n - n 1000? 0 flush',
    'proxymap  unix - - n - - proxymap',
    'showq     unix n - n - - showq',
    'error     unix - - n - - error',
    'retry     unix - - n - - error',
    'discard   unix - - n - - discard',
    'anvil     unix - - n - 1 anvil',
    'scache    unix - - n - 1 scache',
    'postlog   unix-dgram n - n - 1 postlogd',
  ].join('\n')}\n`;
}

/**
 * Creates the queue and data directories as `postfix-files` lists them (`$queue_directory/active:
 * d:$mail_owner:-:700`...), which is what `postfix check` would do.
 */
async function makePostfixDirectories(paths: Record<string, string>): Promise<void> {
  const idOf = async (database: 'passwd' | 'group', name: string) =>
    Number((await run('getent', [database, name])).stdout.split(':')[2]);
  const owners: Record<string, number> = { root: 0, $mail_owner: await idOf('passwd', 'postfix') };
  const groups: Record<string, number> = {
    '-': 0,
    $setgid_group: await idOf('group', 'postdrop'),
  };
  for (const line of readFileSync(POSTFIX_FILES, 'utf8').split('\n')) {
    const [path = '', type, owner = '', group = '', mode = ''] = line.split(':');
    const [root, ...rest] = path.split('/');
    const base = paths[(root ?? '').slice(1)];
    if (type !== 'd' || !base || !path.startsWith('$')) continue;
    const target = join(base, ...rest);
    mkdirSync(target, { recursive: true });
    chownSync(target, owners[owner] ?? 0, groups[group] ?? 0);
    chmodSync(target, Number.parseInt(mode, 8));
  }
}

/** What the log says was taken in: recipients handed to discard, and the cleanup's message-ids. */
function taken(log: string) {
  return {
    recipients: [...log.matchAll(/ to=<([^>]+)>.*status=sent \(/g)].map((m) => m[1]!),
    messageIds: [...log.matchAll(/cleanup\[\d+\]: \w+: message-id=(<[^>]*>)/g)].map((m) => m[1]!),
  };
}

/** Delivery is asynchronous (smtpd, cleanup, qmgr, discard): waits on the log file's changes. */
function waitForDelivered(dir: string, logFile: string, n: number, timeoutMs: number) {
  return new Promise<ReturnType<typeof taken>>((resolve, reject) => {
    const check = () => {
      const now = taken(readLog(logFile));
      if (now.recipients.length < n) return false;
      finish();
      resolve(now);
      return true;
    };
    const watcher = watch(dir, () => check());
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(
          `Postfix delivered fewer than ${n} recipients in ${timeoutMs} ms:\n${readLog(logFile)}`,
        ),
      );
    }, timeoutMs);
    const finish = () => {
      watcher.close();
      clearTimeout(timer);
    };
    check();
  });
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once smtpd accepts connections (master spawns it on the first connection). */
async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

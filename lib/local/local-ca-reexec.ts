import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Set in the child so it knows it is the prepared one (value: the trusted CA file, or `-`). */
const MARKER = 'O365_LOCAL_CHILD';

/**
 * Runs the local pipeline's script in a child process prepared for it, and returns the child's
 * exit code; in the child itself this returns `undefined` and the caller goes on.
 * - `caFile`: the child trusts it (the local capture server's CA) without certificate checks ever
 *   being turned off. Node reads `NODE_EXTRA_CA_CERTS` only at start-up, hence the child. An
 *   existing `NODE_EXTRA_CA_CERTS` (e.g. a corporate proxy CA) is kept: both go into one bundle,
 *   as the variable takes one file. Not given when sending to a real server: nothing local is
 *   trusted then.
 * - fauxqs needs `node:sqlite`, still flagged experimental in Node 22: its start-up warning is
 *   noise in the terminal, so the child runs with that warning off.
 * - The child ends with the parent: a parent killed outright (SIGKILL, a crashed terminal) cannot
 *   pass a signal on, so the child watches the IPC channel between them, which the kernel closes
 *   when the parent dies, and stops as if told SIGTERM. Otherwise it would keep the SQS port.
 */
export async function runInPreparedChild(caFile?: string): Promise<number | undefined> {
  const marker = caFile ? resolve(caFile) : '-';
  if (process.env[MARKER] === marker) {
    followParent();
    return undefined;
  }
  const flags = [...process.execArgv, '--disable-warning=ExperimentalWarning'];
  const env: NodeJS.ProcessEnv = { ...process.env, [MARKER]: marker };
  if (caFile) env.NODE_EXTRA_CA_CERTS = caBundle(caFile);
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env,
  });
  // Signals for this process (Ctrl-C reaches both; `kill <pid>` only this one) are passed on;
  // the child shuts down once however often it is told, and this parent waits for it.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((done) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      done(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

/** In the child: SIGTERM to itself (the script's own clean shutdown) once the parent is gone. */
function followParent(): void {
  if (!process.channel) return;
  // The channel must not keep the child alive by itself: a script that is done still exits.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

function caBundle(caFile: string): string {
  const existing = process.env.NODE_EXTRA_CA_CERTS;
  if (!existing || resolve(existing) === resolve(caFile)) return resolve(caFile);
  const bundle = join(dirname(resolve(caFile)), 'ca-bundle.pem');
  writeFileSync(
    bundle,
    `${readFileSync(existing, 'utf8').trim()}\n${readFileSync(caFile, 'utf8')}`,
  );
  return bundle;
}

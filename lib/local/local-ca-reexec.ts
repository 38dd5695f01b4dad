import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Set in the child so it knows the CA is already trusted. */
const MARKER = 'O365_LOCAL_CA_TRUSTED';

/**
 * Makes this process trust `caFile` (the local capture server's CA) without ever turning
 * certificate checks off. Node reads `NODE_EXTRA_CA_CERTS` only at start-up, so the first run
 * re-executes the same script in a child with it set, and returns the child's exit code; in the
 * child this returns `undefined` and the caller goes on. An existing `NODE_EXTRA_CA_CERTS`
 * (e.g. a corporate proxy CA) is kept: both go into one bundle, as the variable takes one file.
 */
export async function runTrustingLocalCa(caFile: string): Promise<number | undefined> {
  if (process.env[MARKER] === resolve(caFile)) return undefined;
  // fauxqs needs node:sqlite, still flagged experimental in Node 22; its warning is noise here.
  const flags = [...process.execArgv, '--disable-warning=ExperimentalWarning'];
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caBundle(caFile), [MARKER]: resolve(caFile) },
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

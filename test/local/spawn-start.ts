import { type ChildProcess, spawn } from 'node:child_process';

const START = new URL('../../lib/local/start.ts', import.meta.url).pathname;

/** `npm start` running in a child process, with what it has printed so far. */
export interface StartedPipeline {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout has a match for `pattern` (event-driven, no polling). */
  printed(pattern: RegExp): Promise<void>;
  /**
   * Kills `npm start` outright (SIGKILL, no chance to clean up) and resolves once every process
   * it started has let go of its output, i.e. has exited: the pipeline runs in a re-executed
   * child that holds the same stdout.
   */
  kill(): Promise<void>;
}

/**
 * Starts `lib/local/start.ts` in `cwd` on a free SQS port, with the caller's MAIL_/SMTP_ settings
 * removed (so only `cwd`'s `.env` configures it), and waits until it has printed its state file.
 */
export async function spawnStart(cwd: string): Promise<StartedPipeline> {
  const env: NodeJS.ProcessEnv = { ...process.env, O365_LOCAL_SQS_PORT: '0' };
  for (const key of Object.keys(env)) if (/^(MAIL_|SMTP_|FORCE_COLOR)/.test(key)) delete env[key];
  const child = spawn(process.execPath, [START], { cwd, env });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(stdout)) w.resolve();
      else waiters.push(w);
    }
  });
  const started: StartedPipeline = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    printed(pattern) {
      if (pattern.test(stdout)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
    kill() {
      const closed = new Promise<void>((resolve) => {
        if (child.stdout.closed) resolve();
        else child.stdout.once('close', () => resolve());
      });
      if (child.exitCode === null) child.kill('SIGKILL');
      return closed;
    },
  };
  await started.printed(/state\s+\S+pipeline\.json/);
  return started;
}

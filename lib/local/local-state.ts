import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LOCAL_STATE_FILE } from './local-defaults.ts';

/** What a running `npm start` writes so the `o365-mail` command line can find it. */
export interface LocalPipelineState {
  version: 1;
  /** The pipeline's process id; the state counts only while this process lives. */
  pid: number;
  startedAt: string;
  /** `http://127.0.0.1:<port>` of the embedded SQS emulator. */
  sqsEndpoint: string;
  region: string;
  queueUrl: string;
  dlqUrl: string;
  /** The circuit breaker's state file (`MAIL_BREAKER_FILE`), for `o365-mail resume`. */
  breakerFile?: string;
  /** Where messages go: the local capture server, or a real SMTP server configured in `.env`. */
  smtp:
    | { kind: 'capture'; host: string; port: number; outboxDir: string }
    | { kind: 'smtp'; host: string; port: number };
}

/** The state file's path: `O365_LOCAL_STATE_FILE`, else `.local/pipeline.json` in the working directory. */
export function localStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.O365_LOCAL_STATE_FILE || LOCAL_STATE_FILE);
}

export function writeLocalState(state: LocalPipelineState, file = localStateFile()): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** Removes the state file, but only when it still describes this process (another may have started since). */
export function removeLocalState(pid: number, file = localStateFile()): void {
  const state = readStateFile(file);
  if (state?.pid === pid) rmSync(file, { force: true });
}

/**
 * Reads the state of the running local pipeline; `undefined` when there is none, the file is
 * unreadable, or its process has ended (a pipeline killed with SIGKILL leaves a stale file behind).
 */
export function readLocalState(file = localStateFile()): LocalPipelineState | undefined {
  const state = readStateFile(file);
  return state && isAlive(state.pid) ? state : undefined;
}

function readStateFile(file: string): LocalPipelineState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalPipelineState>;
    const valid =
      parsed.version === 1 &&
      typeof parsed.pid === 'number' &&
      typeof parsed.queueUrl === 'string' &&
      typeof parsed.dlqUrl === 'string' &&
      typeof parsed.sqsEndpoint === 'string';
    return valid ? (parsed as LocalPipelineState) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

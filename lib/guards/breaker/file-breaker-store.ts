import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BreakerState, BreakerStore, PauseReason } from './breaker-state.ts';

/**
 * The breaker of the local pipeline (`npm start`) as a JSON file (`MAIL_BREAKER_FILE`), so the
 * sender, the local event source and `o365-mail resume` in another terminal share one state
 * without a database. One process writes at a time in practice; writes go through a rename so a
 * reader never sees half a file.
 */
export class FileBreakerStore implements BreakerStore {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async read(): Promise<BreakerState> {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch {
      return { paused: false };
    }
    try {
      const state = JSON.parse(text) as BreakerState;
      return typeof state?.paused === 'boolean' ? state : { paused: false };
    } catch {
      return { paused: false };
    }
  }

  async pause(why: PauseReason, now: number): Promise<boolean> {
    const current = await this.read();
    if (current.paused) return false;
    this.#write({ ...current, ...why, paused: true, since: now });
    return true;
  }

  async resume(now: number): Promise<boolean> {
    const current = await this.read();
    if (!current.paused) return false;
    this.#write({ paused: false, resumedAt: now });
    return true;
  }

  #write(state: BreakerState): void {
    mkdirSync(dirname(this.#path), { recursive: true });
    const temporary = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, this.#path);
  }
}

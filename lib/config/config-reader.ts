/**
 * Reads environment variables for the sender's configuration, collecting every problem instead of
 * stopping at the first: each `take` returns the value or records the problem sentence.
 */
import type { Parsed } from './config-values.ts';

export type Env = Record<string, string | undefined>;

export class ConfigReader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  readonly #env: Env;
  constructor(env: Env) {
    this.#env = env;
  }
  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }
  take<T>(parsed: Parsed<T>): T | undefined {
    if (parsed.ok) return parsed.value;
    this.problems.push(parsed.problem);
    return undefined;
  }
  optional<T>(name: string, parse: (name: string, raw: string) => Parsed<T>): T | undefined {
    const raw = this.raw(name);
    return raw === undefined ? undefined : this.take(parse(name, raw));
  }
  required<T>(
    name: string,
    parse: (name: string, raw: string) => Parsed<T>,
    fix: string,
  ): T | undefined {
    const raw = this.raw(name);
    if (raw === undefined) {
      this.problems.push(`${name} is not set: ${fix}`);
      return undefined;
    }
    return this.take(parse(name, raw));
  }
}

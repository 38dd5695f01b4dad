import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';
import type { Colors } from 'picocolors/types.js';

/** Where a command writes, and how: colours only for a terminal, JSON when `--json` asks for it. */
export interface Output {
  readonly json: boolean;
  readonly color: Colors;
  /** True when stderr is a terminal (progress bars and prompts go there). */
  readonly interactive: boolean;
  /** A line for people (suppressed with `--json`). */
  line(text?: string): void;
  /** The one JSON document a `--json` run prints. */
  result(value: unknown): void;
  /** An error or warning for people, on stderr (also with `--json`, so scripts keep a clean stdout). */
  error(text: string): void;
}

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * Colour follows the usual conventions: `NO_COLOR` turns it off, `FORCE_COLOR` (not `0`) on,
 * otherwise only when stdout is a terminal. Why not `pc.isColorSupported`: it also says yes
 * whenever `CI` is set, which would put escape codes into piped output.
 */
export function createOutput(json: boolean, streams: OutputStreams = processStreams()): Output {
  const { stdout, stderr, env } = streams;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const enabled = !json && !('NO_COLOR' in env) && (forced || stdout.isTTY === true);
  const color = pc.createColors(enabled);
  return {
    json,
    color,
    interactive: stderr.isTTY === true && !json,
    line(text = '') {
      if (!json) stdout.write(`${text}\n`);
    },
    result(value) {
      if (json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    error(text) {
      stderr.write(`${text}\n`);
    },
  };
}

function processStreams(): OutputStreams {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Pads cells to a plain-text table (ANSI codes are not counted in the width). */
export function formatTable(rows: string[][]): string[] {
  const visible = (s: string) => stripVTControlCharacters(s).length;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visible(cell));
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell)),
      )
      .join('  ')
      .trimEnd(),
  );
}

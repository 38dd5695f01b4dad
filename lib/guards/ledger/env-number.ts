/**
 * Reads an optional whole-number environment variable: its default when unset or empty, else the
 * value if it is an integer ≥ `min`, else a problem in plain words (collected, reported at start).
 */
export function envInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  problems: string[],
): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    problems.push(`${name} must be a whole number ≥ ${min}, got "${raw}"`);
    return fallback;
  }
  return value;
}

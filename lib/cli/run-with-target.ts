import { EXIT, type ExitCode } from './exit-codes.ts';
import { createOutput, type Output } from './output.ts';
import { type QueueTarget, resolveQueueTarget } from './queue-target.ts';
import type { TargetCommandOptions } from './target-options.ts';

/**
 * Runs a queue command: resolves the target (exit 2 when there is none), runs `body`, maps an
 * SQS/AWS error to exit 3 with its message, and always releases the SDK client.
 */
export async function runWithTarget(
  options: TargetCommandOptions,
  body: (target: QueueTarget, out: Output) => Promise<ExitCode>,
): Promise<ExitCode> {
  const out = createOutput(options.json === true);
  const resolved = await resolveQueueTarget(options);
  if (!resolved.ok) {
    out.error(out.color.red(resolved.problem));
    return EXIT.usage;
  }
  try {
    return await body(resolved.target, out);
  } catch (error) {
    const err = error as Error;
    out.error(out.color.red(`${err.name}: ${err.message}`));
    return EXIT.service;
  } finally {
    resolved.target.client.destroy();
  }
}

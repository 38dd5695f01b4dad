/** Graph failures in `doctor`'s words: the Graph table's explanation and fix, as the sender logs them. */
import { classifyGraphFailure } from '../transport/graph/classify-graph-failure.ts';
import { GRAPH_REPLIES } from '../transport/graph/graph-replies.ts';
import type { StepFailure } from './doctor-step.ts';

/** Explains an error or a Graph answer with the Graph failure table. */
export function graphFailureFromError(error: unknown): StepFailure {
  // doctor's network probes report Node's own code as `originalCode` (nodemailer's habit).
  const e = error as { originalCode?: unknown; message?: unknown };
  const failure =
    typeof e?.originalCode === 'string'
      ? Object.assign(new Error(String(e.message)), { code: e.originalCode })
      : error;
  const c = classifyGraphFailure(failure);
  return {
    reason: c.reason,
    explanation: c.entry?.explanation ?? c.reason,
    fix: c.fix,
    ...(c.entry ? { tableRow: c.entry.id } : {}),
  };
}

/** A failure explained by a named row of the Graph table, with a reason of our own. */
export function graphFailureFromRow(rowId: string, reason: string): StepFailure {
  const row = GRAPH_REPLIES.find((r) => r.id === rowId);
  return {
    reason,
    explanation: row?.explanation ?? reason,
    fix: row?.fix ?? 'See docs/replies.md.',
    ...(row ? { tableRow: row.id } : {}),
  };
}

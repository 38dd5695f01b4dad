/**
 * The row of a reply table that matches an answer best: the highest score, the first row on a
 * tie, none when every row scores below 0 (does not apply). Both doors' classifiers pick rows this
 * way; what a match is worth is theirs to say.
 */
export function bestReplyRow<Row, Reply>(
  reply: Reply,
  table: readonly Row[],
  score: (row: Row, reply: Reply) => number,
): Row | undefined {
  let best: Row | undefined;
  let bestScore = -1;
  for (const row of table) {
    const s = score(row, reply);
    if (s > bestScore) {
      best = row;
      bestScore = s;
    }
  }
  return best;
}

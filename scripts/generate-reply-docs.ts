/**
 * Writes the Office 365 reply table of docs/replies.md from the failure table in
 * lib/transport/smtp/office365-replies.ts, so the docs and the classifier can never disagree.
 * Run: node scripts/generate-reply-docs.ts   (test/unit/reply-docs.test.ts fails when it is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OFFICE365_REPLIES, type ReplyTableRow } from '../lib/transport/smtp/office365-replies.ts';

export const BEGIN_MARKER =
  '<!-- generated:office365-replies (node scripts/generate-reply-docs.ts) -->';
export const END_MARKER = '<!-- /generated:office365-replies -->';

const CLASS_WORDS = {
  retry: 'retry',
  rejected: 'rejected (DLQ)',
  config: 'config (batch stops)',
} as const;

/** Plain cell text: pipes escaped, and `<from>`-style placeholders kept visible (not taken for HTML). */
function cell(text: string): string {
  return text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\s*\n\s*/g, ' ');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function row(r: ReplyTableRow): string {
  const delay = r.minDelaySeconds ? ` (≥ ${r.minDelaySeconds} s)` : '';
  return `| ${code(r.example)} | ${cell(r.stage)} | ${CLASS_WORDS[r.failureClass]}${delay} | ${cell(r.explanation)} | ${cell(r.fix)} |`;
}

/** The markdown table, one line per row of the failure table, in table order. */
export function renderReplyTable(rows: readonly ReplyTableRow[] = OFFICE365_REPLIES): string {
  return [
    '| Reply or error (as written by Office 365, Entra ID or Node) | Where | Outcome | What it means | Fix |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(row),
  ].join('\n');
}

/** The docs page the table lives in. */
export const REPLY_DOCS_PATH = fileURLToPath(new URL('../docs/replies.md', import.meta.url));

/** `doc` with the generated block replaced by the current table. */
export function withReplyTable(doc: string, table = renderReplyTable()): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin)
    throw new Error(`docs/replies.md has no ${BEGIN_MARKER} … ${END_MARKER} block`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${table}\n${doc.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = readFileSync(REPLY_DOCS_PATH, 'utf8');
  const after = withReplyTable(before);
  if (after !== before) writeFileSync(REPLY_DOCS_PATH, after);
  console.log(
    after === before
      ? 'docs/replies.md reply table is up to date'
      : 'docs/replies.md reply table updated',
  );
}

/**
 * Writes the reply tables of docs/replies.md from the failure tables the classifiers read —
 * Office 365 SMTP (lib/transport/smtp/office365-replies.ts) and Microsoft Graph
 * (lib/transport/graph/graph-replies.ts) — so the docs and the classifiers can never disagree.
 * Run: node scripts/generate-reply-docs.ts   (test/unit/reply-docs.test.ts fails when it is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GRAPH_REPLIES } from '../lib/transport/graph/graph-replies.ts';
import { OFFICE365_REPLIES } from '../lib/transport/smtp/office365-replies.ts';

/** What a docs line needs from a row of either table. */
export interface DocumentedRow {
  example: string;
  stage: string;
  failureClass: 'retry' | 'rejected' | 'config' | 'invalid';
  explanation: string;
  fix: string;
  minDelaySeconds?: number;
}

const markers = (name: string) => ({
  begin: `<!-- generated:${name} (node scripts/generate-reply-docs.ts) -->`,
  end: `<!-- /generated:${name} -->`,
});

export const BEGIN_MARKER = markers('office365-replies').begin;
export const END_MARKER = markers('office365-replies').end;
export const GRAPH_BEGIN_MARKER = markers('graph-replies').begin;
export const GRAPH_END_MARKER = markers('graph-replies').end;

const CLASS_WORDS = {
  retry: 'retry',
  rejected: 'rejected (DLQ)',
  invalid: 'invalid (DLQ)',
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

function row(r: DocumentedRow): string {
  const delay = r.minDelaySeconds ? ` (≥ ${r.minDelaySeconds} s)` : '';
  return `| ${code(r.example)} | ${cell(r.stage)} | ${CLASS_WORDS[r.failureClass]}${delay} | ${cell(r.explanation)} | ${cell(r.fix)} |`;
}

/** The markdown table, one line per row of the failure table, in table order. */
export function renderReplyTable(
  rows: readonly DocumentedRow[] = OFFICE365_REPLIES,
  source = 'Office 365, Entra ID or Node',
): string {
  return [
    `| Reply or error (as written by ${source}) | Where | Outcome | What it means | Fix |`,
    '| --- | --- | --- | --- | --- |',
    ...rows.map(row),
  ].join('\n');
}

export function renderGraphReplyTable(): string {
  return renderReplyTable(GRAPH_REPLIES, 'Microsoft Graph, Entra ID or Node');
}

/** The docs page the tables live in. */
export const REPLY_DOCS_PATH = fileURLToPath(new URL('../docs/replies.md', import.meta.url));

function withBlock(doc: string, name: string, table: string): string {
  const { begin: beginMarker, end: endMarker } = markers(name);
  const begin = doc.indexOf(beginMarker);
  const end = doc.indexOf(endMarker);
  if (begin < 0 || end < begin)
    throw new Error(`docs/replies.md has no ${beginMarker} … ${endMarker} block`);
  return `${doc.slice(0, begin + beginMarker.length)}\n${table}\n${doc.slice(end)}`;
}

/** `doc` with the Office 365 block replaced by the current table. */
export function withReplyTable(doc: string, table = renderReplyTable()): string {
  return withBlock(doc, 'office365-replies', table);
}

/** `doc` with the Graph block replaced by the current table. */
export function withGraphReplyTable(doc: string, table = renderGraphReplyTable()): string {
  return withBlock(doc, 'graph-replies', table);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = readFileSync(REPLY_DOCS_PATH, 'utf8');
  const after = withGraphReplyTable(withReplyTable(before));
  if (after !== before) writeFileSync(REPLY_DOCS_PATH, after);
  console.log(
    after === before
      ? 'docs/replies.md reply tables are up to date'
      : 'docs/replies.md reply tables updated',
  );
}

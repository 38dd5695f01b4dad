import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAPH_REPLIES } from '../../lib/transport/graph/graph-replies.ts';
import { OFFICE365_REPLIES } from '../../lib/transport/smtp/office365-replies.ts';
import {
  REPLY_DOCS_PATH,
  renderGraphReplyTable,
  renderReplyTable,
  withGraphReplyTable,
  withReplyTable,
} from '../../scripts/generate-reply-docs.ts';

const doc = readFileSync(REPLY_DOCS_PATH, 'utf8');

describe('docs/replies.md troubleshooting tables', () => {
  it('match the failure tables (run node scripts/generate-reply-docs.ts when this fails)', () => {
    expect(withReplyTable(doc)).toBe(doc);
    expect(withGraphReplyTable(doc)).toBe(doc);
  });

  it.each([
    ['Office 365', renderReplyTable(), OFFICE365_REPLIES],
    ['Graph', renderGraphReplyTable(), GRAPH_REPLIES],
  ] as const)('the %s table has one line per row of its failure table', (_name, table, rows) => {
    expect(table.split('\n')).toHaveLength(rows.length + 2);
    for (const row of rows.slice(0, 3)) expect(doc).toContain(row.example.slice(0, 40));
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OFFICE365_REPLIES } from '../../lib/transport/smtp/office365-replies.ts';
import {
  REPLY_DOCS_PATH,
  renderReplyTable,
  withReplyTable,
} from '../../scripts/generate-reply-docs.ts';

const doc = readFileSync(REPLY_DOCS_PATH, 'utf8');

describe('docs/replies.md troubleshooting table', () => {
  it('matches lib/transport/smtp/office365-replies.ts (run node scripts/generate-reply-docs.ts when this fails)', () => {
    expect(withReplyTable(doc)).toBe(doc);
  });

  it('has one line per row of the failure table', () => {
    const lines = renderReplyTable().split('\n');
    expect(lines).toHaveLength(OFFICE365_REPLIES.length + 2);
    for (const row of OFFICE365_REPLIES.slice(0, 3)) {
      expect(doc).toContain(row.example.slice(0, 40));
    }
  });
});

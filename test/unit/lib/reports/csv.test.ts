import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../../lib/reports/csv.ts';

describe('toCsv', () => {
  it('writes a header and rows with CRLF line ends', () => {
    expect(
      toCsv(
        ['hour_utc', 'sent'],
        [
          ['2026-11-21T00:00Z', 3],
          ['2026-11-21T01:00Z', 0],
        ],
      ),
    ).toBe('hour_utc,sent\r\n2026-11-21T00:00Z,3\r\n2026-11-21T01:00Z,0\r\n');
  });

  it('quotes cells with commas, quotes or line breaks (RFC 4180)', () => {
    expect(toCsv(['a'], [['x,y'], ['say "hi"'], ['two\nlines']])).toBe(
      'a\r\n"x,y"\r\n"say ""hi"""\r\n"two\nlines"\r\n',
    );
  });

  it('defuses text a spreadsheet would run as a formula, but leaves negative numbers alone', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['=HYPERLINK("http://x")', -1],
          ['@SUM(A1)', 2],
        ],
      ),
    ).toBe('a,b\r\n"\'=HYPERLINK(""http://x"")",-1\r\n\'@SUM(A1),2\r\n');
  });
});

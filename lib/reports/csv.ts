/**
 * RFC 4180 CSV, small enough to write here rather than pull in a CSV library for one table of
 * numbers. Text cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) get a
 * leading `'` (OWASP "CSV injection"): report rows can carry values that producers chose.
 */

/** One cell: numbers are written as they are, text is escaped. */
export type CsvCell = string | number;

const FORMULA_START = /^[=+\-@\t\r]/;

function escapeCell(cell: CsvCell): string {
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Builds a CSV document: a header line, then one line per row, CRLF line ends (RFC 4180). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => `${row.map(escapeCell).join(',')}\r\n`).join('');
}

// CSV exports of the manager console's tables (RFC 4180), safe to open in a
// spreadsheet: a text cell that starts like a formula is kept as text.

export interface CsvColumn<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/** Characters that make a spreadsheet read a cell as a formula (and tab / CR, which some also do). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell. Text that starts with `=`, `+`, `-`, `@` (or a tab / carriage return) gets
 * a leading `'` so that spreadsheets show it instead of running it; numbers are written
 * as they are (a negative number is not a formula). Cells with a comma, a quote or a line
 * break are quoted, quotes doubled. null / undefined / non-finite numbers: empty.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header line, then one line per row; lines end with CRLF (the last one too). */
export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvCell(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A date-stamped, file-system-safe name: `board-queue-2025-03-12-1405.csv` (local time). */
export function csvFileName(base: string, at: number = Date.now()): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`;
  const safe = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${safe || 'export'}-${stamp}.csv`;
}

/** An ISO 8601 time for a CSV cell (UTC, as spreadsheets parse it); empty for none. */
export function csvTime(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

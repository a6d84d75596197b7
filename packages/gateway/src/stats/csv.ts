/**
 * The statistics' spreadsheets (RFC 4180 CSV), written for the program that opens them: Excel,
 * on a command centre's Chinese Windows.
 *
 * - A UTF-8 byte order mark first: without it Excel reads the file in the system's code page
 *   (GBK there) and every Chinese zone and unit name turns to mojibake.
 * - A text cell that starts like a formula (=, +, -, @, a tab or a carriage return) gets a
 *   leading apostrophe, as OWASP advises against CSV injection: zone names come from admins and
 *   from uploaded GeoJSON files, and `=HYPERLINK(...)` in one would run in every reader's Excel.
 *   Numbers, and the lone "-" that stands for "none", stay as they are.
 */
export const UTF8_BOM = '\ufeff';

type Cell = string | number | null;

function cell(value: Cell): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && text.length > 1 && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header row and data rows as one CSV file, each line ended by \n. */
export function csvFile(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return `${UTF8_BOM}${[header, ...rows].map((row) => row.map(cell).join(',')).join('\n')}\n`;
}

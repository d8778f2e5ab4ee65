// Small RFC 4180 CSV reader/writer. The sample must run with no npm install,
// so we do not pull in a CSV package; this covers quoted fields, doubled
// quotes, embedded commas/newlines, CRLF or LF line ends and a UTF-8 BOM.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Parse CSV text into an array of records (arrays of strings).
 * Empty lines are skipped: they carry no data and a trailing newline
 * would otherwise yield a phantom one-field row.
 * @param {string} text
 * @returns {string[][]}
 */
export function parseCsv(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = [];
  let record = [];
  let field = '';
  let inQuotes = false;
  let fieldWasQuoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(field);
    // A line with nothing on it is not a record with one empty field.
    if (!(record.length === 1 && record[0] === '' && !fieldWasQuoted)) records.push(record);
    record = [];
    field = '';
    fieldWasQuoted = false;
  };
  while (i < text.length) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        inQuotes = false; i++; continue;
      }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { inQuotes = true; fieldWasQuoted = true; i++; continue; }
    if (ch === ',') { record.push(field); field = ''; fieldWasQuoted = false; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { endRecord(); i += 2; continue; }
    if (ch === '\n' || ch === '\r') { endRecord(); i++; continue; }
    field += ch; i++;
  }
  if (inQuotes) throw new Error('CSV ends inside a quoted field (unbalanced ")');
  if (field !== '' || record.length > 0 || fieldWasQuoted) endRecord();
  return records;
}

/**
 * Read a CSV file with a header row. Every row must have as many fields as
 * the header: a ragged row usually means a broken file, and silently padding
 * it would shift columns into the wrong features.
 * @param {string} path
 * @returns {{ header: string[], rows: Record<string, string>[] }}
 */
export function readCsvFile(path) {
  const records = parseCsv(readFileSync(path, 'utf8'));
  if (records.length === 0) return { header: [], rows: [] };
  const [header, ...body] = records;
  const rows = body.map((fields, k) => {
    if (fields.length !== header.length) {
      throw new Error(`${path}: data row ${k + 1} has ${fields.length} fields, header has ${header.length}`);
    }
    return Object.fromEntries(header.map((name, j) => [name, fields[j]]));
  });
  return { header, rows };
}

/** Quote a field only when it needs it, so files stay diff-friendly. */
function formatField(value) {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * @param {string[]} header
 * @param {Array<Record<string, unknown>>} rows
 * @returns {string}
 */
export function formatCsv(header, rows) {
  const lines = [header.map(formatField).join(',')];
  for (const row of rows) lines.push(header.map((h) => formatField(row[h])).join(','));
  return lines.join('\n') + '\n';
}

/** Write a CSV file, creating its folder. */
export function writeCsvFile(path, header, rows) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, formatCsv(header, rows));
}

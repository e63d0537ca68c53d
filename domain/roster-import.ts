/**
 * Reading a roster for import (docs/exam-format.md has every field): CSV with a header row whose
 * column names are rosterEntrySchema's keys, in any order (empty cell = field absent; `;` and tab
 * delimiters too, as Excel writes them), or JSON: an array of entries or
 * `{ "examId"?, "examinees": [...] }`. A UTF-8 BOM is ignored. Student ids must be unique.
 * Errors are located as import-errors.ts says.
 */
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import { findNodeAtLocation, type JSONPath } from 'jsonc-parser';
import { z } from 'zod';
import { rosterEntrySchema, type RosterEntry } from './exam-format.js';
import {
  describeValue,
  issueMessage,
  pathKeys,
  plural,
  positionsOf,
  renderPath,
  sortErrors,
  stripBom,
  type ImportError,
  type Position,
} from './import-errors.js';
import { jsonIssueErrors, readStrictJson } from './located-json.js';

/** The outcome of parseRoster. */
export type RosterParseResult = { ok: true; entries: RosterEntry[] } | { ok: false; errors: ImportError[] };

/** The roster file formats the importer reads. */
export type RosterFormat = 'csv' | 'json';

type RosterField = keyof typeof rosterEntrySchema.shape;

/** Every roster field, in the order the documentation lists them. */
const ROSTER_FIELDS = Object.keys(rosterEntrySchema.shape) as RosterField[];
/** Without these an examinee cannot sign in, so a roster must carry them. */
const REQUIRED_ROSTER_FIELDS: readonly RosterField[] = ['studentId', 'name', 'accessCode'];
/** CSV cells are text; these become numbers before validation. */
const NUMERIC_ROSTER_FIELDS: readonly RosterField[] = ['maxDownloads', 'accommodationPercent'];

/** The roster format a file name implies, or undefined when the extension is neither. */
export function rosterFormatFromName(fileName: string): RosterFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/**
 * Parses and validates a roster for `examId`. All faults are reported with the line they are
 * on; a repeated studentId is reported on its second occurrence, naming the first one's line.
 * A JSON roster of the form `{ "examId", "examinees" }` must name `examId`.
 */
export function parseRoster(text: string, format: RosterFormat, examId: string): RosterParseResult {
  return format === 'csv' ? parseRosterCsv(text) : parseRosterJson(text, examId);
}

/** The roster's identifiers, each unique within the roster: the sign-in id and the candidate number. */
const UNIQUE_FIELDS = ['studentId', 'examineeId'] as const;

function duplicateError(
  field: (typeof UNIQUE_FIELDS)[number],
  value: string,
  firstLine: number,
  pos: Position,
  path: string,
): ImportError {
  return { ...pos, path, message: `duplicate ${field} "${value}" (first on line ${firstLine})` };
}

function parseRosterJson(text: string, examId: string): RosterParseResult {
  const read = readStrictJson(text);
  if (!read.ok) return read;
  const { json } = read;
  const errors = [...json.errors];
  const rootPos = json.at(json.root.offset);

  let listPath: JSONPath;
  let list: unknown[];
  if (Array.isArray(json.value)) {
    listPath = [];
    list = json.value;
  } else if (typeof json.value === 'object' && json.value !== null) {
    const wrapper = z
      .strictObject({ examId: z.string().optional(), examinees: z.array(z.unknown()) })
      .safeParse(json.value);
    if (!wrapper.success)
      return { ok: false, errors: sortErrors([...errors, ...jsonIssueErrors(wrapper.error.issues, [], json)]) };
    if (wrapper.data.examId !== undefined && wrapper.data.examId !== examId) {
      // A roster that names its exam protects against importing another exam's list by mistake.
      const node = findNodeAtLocation(json.root, ['examId']) ?? json.root;
      errors.push({
        ...json.at(node.offset),
        path: 'examId',
        message: `this roster is for exam "${wrapper.data.examId}", not "${examId}"`,
      });
    }
    listPath = ['examinees'];
    list = wrapper.data.examinees;
  } else {
    return {
      ok: false,
      errors: [{ ...rootPos, path: '', message: 'expected an array of examinees or an object { "examinees": [...] }' }],
    };
  }
  if (list.length === 0)
    errors.push({ ...rootPos, path: renderPath(listPath), message: 'the roster has no examinees' });

  const entries: RosterEntry[] = [];
  const firstLineOf = { studentId: new Map<string, number>(), examineeId: new Map<string, number>() };
  list.forEach((item, i) => {
    const result = rosterEntrySchema.safeParse(item);
    if (result.success) entries.push(result.data);
    else errors.push(...jsonIssueErrors(result.error.issues, [...listPath, i], json));
    // Checked on the raw value so that a duplicate shows even when the row has other faults.
    for (const field of UNIQUE_FIELDS) {
      const value = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[field] : undefined;
      if (typeof value !== 'string' || value.trim() === '') continue;
      const node = findNodeAtLocation(json.root, [...listPath, i, field]);
      if (node === undefined) continue;
      const pos = json.at(node.offset);
      const first = firstLineOf[field].get(value.trim());
      if (first === undefined) firstLineOf[field].set(value.trim(), pos.line);
      else errors.push(duplicateError(field, value.trim(), first, pos, renderPath([...listPath, i, field])));
    }
  });

  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, entries };
}

/** A CSV record as csv-parse returns it with `info: true, raw: true`. */
interface CsvRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** One CSV record with the position of each of its cells. */
interface CsvRow {
  cells: string[];
  start: Position;
  cellPositions: Position[];
}

/**
 * The start of each cell of a record. csv-parse reports only the line a record ends on, so the
 * positions are recovered from the record's raw text (quotes respected).
 */
function csvRow(record: CsvRecord, delimiter: string): CsvRow {
  // raw carries any skipped empty lines before the record, and the newline that ends it.
  let raw = record.raw.replace(/^\n+/, '');
  if (raw.endsWith('\n')) raw = raw.slice(0, -1);
  const newlines = raw.split('\n').length - 1;
  const startLine = record.info.lines - newlines;
  const at = positionsOf(raw);
  const place = (offset: number): Position => {
    const p = at(offset);
    return { line: startLine + p.line - 1, column: p.column };
  };
  const cellPositions = [place(0)];
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"')
      quoted = !quoted; // "" inside quotes toggles twice: net unchanged, as it should
    else if (c === delimiter && !quoted) cellPositions.push(place(i + 1));
  }
  return { cells: record.record, start: place(0), cellPositions };
}

/** Excel writes `;` where the decimal separator is a comma: take the header's delimiter. */
function detectDelimiter(text: string): string {
  const header = text.split('\n', 50).find((line) => line.trim() !== '') ?? '';
  for (const candidate of [',', ';', '\t']) if (header.includes(candidate)) return candidate;
  return ',';
}

/** Where the quote that is never closed opened: csv-parse only notices at the end of the file. */
function unclosedQuoteOffset(text: string): number | undefined {
  let openedAt: number | undefined;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') openedAt = openedAt === undefined ? i : undefined;
  }
  return openedAt;
}

function csvSyntaxError(e: CsvError, text: string): ImportError {
  const line = typeof e['lines'] === 'number' ? e['lines'] : 1;
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED': {
      const offset = unclosedQuoteOffset(text);
      const pos = offset === undefined ? { line, column: 1 } : positionsOf(text)(offset);
      return { ...pos, path: '', message: 'this quote (") is never closed' };
    }
    case 'INVALID_OPENING_QUOTE':
      return {
        line,
        column: 1,
        path: '',
        message:
          'a quote (") inside a cell that does not start with one: quote the whole cell and double the quote ("")',
      };
    case 'CSV_INVALID_CLOSING_QUOTE':
      return { line, column: 1, path: '', message: 'text after the closing quote (") of a cell' };
    default:
      // csv-parse appends its own location ("at line 7"); ours is in the line number already.
      return { line, column: 1, path: '', message: e.message.replace(/\s+at line \d+.*$/s, '') };
  }
}

function parseRosterCsv(rawText: string): RosterParseResult {
  // One line ending keeps line counting simple; it changes nothing a roster cares about.
  const text = stripBom(rawText).replace(/\r\n?/g, '\n');
  const delimiter = detectDelimiter(text);
  let records: CsvRecord[];
  try {
    // With info and raw, csv-parse returns { record, raw, info } objects; its types do not say so.
    records = parseCsv(text, {
      delimiter,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as CsvRecord[];
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    return { ok: false, errors: [csvSyntaxError(e, text)] };
  }
  const rows = records.map((r) => csvRow(r, delimiter)).filter((r) => r.cells.some((c) => c.trim() !== ''));
  const header = rows.shift();
  if (header === undefined)
    return { ok: false, errors: [{ line: 1, column: 1, path: '', message: 'the file is empty' }] };

  // Header: exactly the schema's keys, each at most once; without the required ones, stop here,
  // as every row would report the same absence.
  const errors: ImportError[] = [];
  const columns = header.cells.map((c) => c.trim());
  const known = new Set<string>(ROSTER_FIELDS);
  columns.forEach((name, i) => {
    const pos = header.cellPositions[i] ?? header.start;
    if (!known.has(name)) {
      const hint = ROSTER_FIELDS.find((f) => f.toLowerCase() === name.toLowerCase());
      const expected = hint !== undefined ? `did you mean "${hint}"?` : `expected ${ROSTER_FIELDS.join(', ')}`;
      errors.push({ ...pos, path: '', message: `unknown column "${name}" (${expected})` });
    } else if (columns.indexOf(name) !== i) {
      errors.push({ ...pos, path: name, message: `column "${name}" appears twice` });
    }
  });
  for (const required of REQUIRED_ROSTER_FIELDS) {
    if (!columns.includes(required))
      errors.push({ ...header.start, path: '', message: `missing required column "${required}"` });
  }
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };

  const entries: RosterEntry[] = [];
  const firstLineOf = { studentId: new Map<string, number>(), examineeId: new Map<string, number>() };
  for (const row of rows) {
    if (row.cells.length !== columns.length) {
      errors.push({
        ...row.start,
        path: '',
        message: `has ${plural(row.cells.length, 'cell')}, the header has ${columns.length}`,
      });
      continue;
    }
    const cellAt = (field: string): Position => row.cellPositions[columns.indexOf(field)] ?? row.start;
    const input: Record<string, string | number> = {};
    columns.forEach((name, i) => {
      const cell = (row.cells[i] ?? '').trim();
      if (cell === '') return; // absent: the schema's default or "not given"
      if ((NUMERIC_ROSTER_FIELDS as readonly string[]).includes(name)) {
        if (/^[+-]?\d+(\.\d+)?$/.test(cell)) input[name] = Number(cell);
        else
          errors.push({ ...cellAt(name), path: name, message: `expected a number, received ${describeValue(cell)}` });
        return;
      }
      input[name] = cell;
    });
    const result = rosterEntrySchema.safeParse(input);
    if (result.success) entries.push(result.data);
    else {
      for (const issue of result.error.issues) {
        const field = pathKeys(issue.path)[0];
        const name = typeof field === 'string' ? field : '';
        const present = name !== '' && input[name] !== undefined;
        errors.push({
          ...(present ? cellAt(name) : row.start),
          path: name,
          message:
            present || issue.code === 'custom' || name === ''
              ? issueMessage(issue, input[name])
              : `required column "${name}" is empty`,
        });
      }
    }
    for (const field of UNIQUE_FIELDS) {
      const value = input[field];
      if (typeof value !== 'string' || value.trim() === '') continue;
      const pos = cellAt(field);
      const first = firstLineOf[field].get(value.trim());
      if (first === undefined) firstLineOf[field].set(value.trim(), pos.line);
      else errors.push(duplicateError(field, value.trim(), first, pos, field));
    }
  }
  if (rows.length === 0) errors.push({ ...header.start, path: '', message: 'the roster has no examinees' });
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, entries };
}

/**
 * Reading an exam file and its roster for import: text in, validated values or a list of errors
 * that point at the line and column of the fault. No storage and no file system here; the CLI
 * reads the files and writes the documents.
 *
 * Formats (docs/exam-format.md has every field):
 * - Exam file: strict JSON (no comments, no trailing commas, no duplicate member names), checked
 *   with examFileSchema.
 * - Roster: CSV with a header row whose column names are rosterEntrySchema's keys, in any order
 *   (empty cell = field absent), or JSON: an array of entries or `{ "examId"?, "examinees": [...] }`.
 *   A UTF-8 BOM is ignored. Student ids must be unique.
 * - Errors: `{ line, column, path, message }`, 1-based line and column (columns count characters),
 *   `path` like `sections[0].questions[2].answerKey`; formatImportErrors prints them as
 *   `file:line:column path: message`, the form editors and CI logs link to.
 *
 * Only the access code's hash ever leaves this module inside a document (toExamineeDoc).
 */
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import {
  findNodeAtLocation,
  getNodePath,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type JSONPath,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser';
import { z } from 'zod';
import { accessCodeHash } from './access-code.js';
import { hashJson, type Json } from './canonical.js';
import {
  examDocId,
  examFileSchema,
  examineeDocId,
  rosterEntrySchema,
  SCHEMA_VERSION,
  type ExamDoc,
  type ExamFile,
  type ExamineeDoc,
  type RosterEntry,
} from './exam-format.js';

/** One fault in an imported file, located for a person with an editor. */
export interface ImportError {
  /** 1-based line in the file (after a BOM, which is ignored). */
  line: number;
  /** 1-based column, in characters. */
  column: number;
  /** Where in the document, e.g. `sections[0].questions[2].answerKey`; '' for the whole file. */
  path: string;
  message: string;
}

/** The outcome of parseExamFile. */
export type ExamParseResult = { ok: true; exam: ExamFile } | { ok: false; errors: ImportError[] };

/** The outcome of parseRoster. */
export type RosterParseResult = { ok: true; entries: RosterEntry[] } | { ok: false; errors: ImportError[] };

/** The roster file formats the importer reads. */
export type RosterFormat = 'csv' | 'json';

type Issue = z.core.$ZodIssue;
type RosterField = keyof typeof rosterEntrySchema.shape;

/** Every roster field, in the order the documentation lists them. */
const ROSTER_FIELDS = Object.keys(rosterEntrySchema.shape) as RosterField[];
/** Without these an examinee cannot sign in, so a roster must carry them. */
const REQUIRED_ROSTER_FIELDS: readonly RosterField[] = ['studentId', 'name', 'accessCode'];
/** CSV cells are text; these become numbers before validation. */
const NUMERIC_ROSTER_FIELDS: readonly RosterField[] = ['maxDownloads', 'accommodationPercent'];

// ---------------------------------------------------------------------------------------------
// Positions

interface Position {
  line: number;
  column: number;
}

/** Maps offsets in `text` to 1-based line and column; \n, \r\n and \r all end a line, as in jsonc-parser. */
function positionsOf(text: string): (offset: number) => Position {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */ && text.charCodeAt(i + 1) === 10) continue; // the \n of \r\n ends the line
    if (c === 10 || c === 13) lineStarts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = lineStarts[lo] ?? 0;
    // Count code points so that an emoji or a rare CJK character counts as one column, as editors do.
    return { line: lo + 1, column: [...text.slice(start, offset)].length + 1 };
  };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// ---------------------------------------------------------------------------------------------
// Paths and messages

/** Renders a path as a JavaScript accessor: `sections[0].questions[2].answerKey`. */
function renderPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function pathKeys(path: readonly PropertyKey[]): (string | number)[] {
  return path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
}

/** The JSON kind of a value, as zod names it in "expected X". */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A short rendering of a value for a message (the person sees what they wrote). */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;
}

/**
 * A message for a zod issue about a value that is present. Zod's defaults ("Invalid input: ...")
 * are replaced by short ones that say what to write; custom messages from the schema are kept.
 */
function issueMessage(issue: Issue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return `expected a whole number, received ${describe(value)}`;
      return `expected ${issue.expected}, received ${kindOf(value)}`;
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      if (values.length === 1) return `must be ${values[0] ?? ''}, received ${describe(value)}`;
      return `expected one of ${values.join(', ')}, received ${describe(value)}`;
    }
    case 'invalid_union':
      if (issue.inclusive !== false && issue.discriminator !== undefined && issue.options !== undefined) {
        const options = issue.options.map((o) => JSON.stringify(o)).join(', ');
        return `expected ${issue.discriminator} to be one of ${options}, received ${describe(value)}`;
      }
      return issue.message;
    case 'too_small': {
      const min = issue.minimum;
      const exclusive = issue.inclusive === false;
      if (issue.origin === 'string')
        return min === 1 && !exclusive ? 'must not be empty' : `must be at least ${plural(min, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${plural(min, 'item')}`;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        return exclusive
          ? `must be greater than ${min}, received ${describe(value)}`
          : `must be at least ${min}, received ${describe(value)}`;
      }
      return issue.message;
    }
    case 'too_big': {
      const max = issue.maximum;
      const exclusive = issue.inclusive === false;
      if (issue.origin === 'string') return `must be at most ${plural(max, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${plural(max, 'item')}`;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        return exclusive
          ? `must be less than ${max}, received ${describe(value)}`
          : `must be at most ${max}, received ${describe(value)}`;
      }
      return issue.message;
    }
    case 'invalid_format':
      // The schema's own messages ("must look like 1.2.3") are better than anything generic.
      if (!issue.message.startsWith('Invalid')) return issue.message;
      if (issue.format === 'email') return `must be an email address, received ${describe(value)}`;
      if (issue.format === 'regex' && issue.pattern !== undefined)
        return `must match ${issue.pattern}, received ${describe(value)}`;
      return `must be a valid ${issue.format}, received ${describe(value)}`;
    default:
      return issue.message;
  }
}

function sortErrors(errors: ImportError[]): ImportError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

// ---------------------------------------------------------------------------------------------
// Strict JSON with positions

interface LocatedJson {
  root: JsonNode;
  value: unknown;
  at: (offset: number) => Position;
  /** Faults found while reading that do not stop validation (duplicate member names). */
  errors: ImportError[];
}

// Keyed by printParseErrorCode's names: ParseErrorCode is a const enum, which isolatedModules forbids.
const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a field name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':' after the field name",
  CommaExpected: "expected ',' before this",
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape sequence',
  InvalidCharacter: 'control characters in strings must be escaped (\\n, \\t, ...)',
};

/** Where the previous non-blank character before `offset` is, or -1. */
function previousNonBlank(text: string, offset: number): number {
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i] ?? '')) i--;
  return i;
}

function syntaxErrors(text: string, parseErrors: ParseError[], at: (offset: number) => Position): ImportError[] {
  const out: ImportError[] = [];
  const linesSeen = new Set<number>();
  for (const e of [...parseErrors].sort((a, b) => a.offset - b.offset)) {
    let offset = e.offset;
    const code = printParseErrorCode(e.error);
    let message = SYNTAX_MESSAGES[code] ?? 'syntax error';
    if (code === 'InvalidSymbol') {
      const found = text.slice(offset, offset + Math.min(e.length, 20));
      message = found.startsWith("'")
        ? `unexpected ${found}: strings and field names need double quotes`
        : `unexpected ${found}`;
    }
    if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
      const before = previousNonBlank(text, offset);
      if ((text[offset] === '}' || text[offset] === ']') && text[before] === ',') {
        offset = before;
        message = 'trailing comma is not allowed in JSON';
      }
    }
    const pos = at(offset);
    // One error per line: the parser's follow-up complaints about the same fault are noise.
    if (linesSeen.has(pos.line)) continue;
    linesSeen.add(pos.line);
    out.push({ ...pos, path: '', message });
  }
  return out;
}

/** Member names that appear twice in one object: JSON.parse keeps the last silently, we refuse. */
function duplicateMemberErrors(node: JsonNode, at: (offset: number) => Position, out: ImportError[]): void {
  if (node.type === 'object') {
    const first = new Map<string, JsonNode>();
    for (const property of node.children ?? []) {
      const key = property.children?.[0];
      if (key === undefined || typeof key.value !== 'string') continue;
      const name: string = key.value;
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, key);
      else {
        out.push({
          ...at(key.offset),
          path: renderPath([...getNodePath(node), name]),
          message: `duplicate field "${name}" (first on line ${at(earlier.offset).line})`,
        });
      }
    }
  }
  for (const child of node.children ?? []) duplicateMemberErrors(child, at, out);
}

function readStrictJson(rawText: string): { ok: true; json: LocatedJson } | { ok: false; errors: ImportError[] } {
  const text = stripBom(rawText);
  const at = positionsOf(text);
  if (text.trim() === '')
    return { ok: false, errors: [{ line: 1, column: 1, path: '', message: 'the file is empty' }] };
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  if (parseErrors.length > 0 || root === undefined) return { ok: false, errors: syntaxErrors(text, parseErrors, at) };
  const errors: ImportError[] = [];
  duplicateMemberErrors(root, at, errors);
  const value: unknown = getNodeValue(root);
  return { ok: true, json: { root, value, at, errors } };
}

/** The node at `path`, or the nearest existing ancestor and the segments that are missing below it. */
function nearestNode(root: JsonNode, path: JSONPath): { node: JsonNode; missing: JSONPath } {
  for (let depth = path.length; depth > 0; depth--) {
    const node = findNodeAtLocation(root, path.slice(0, depth));
    if (node !== undefined) return { node, missing: path.slice(depth) };
  }
  return { node: root, missing: [...path] };
}

/** Locates zod issues (paths relative to `prefix`) in the JSON tree. */
function jsonIssueErrors(issues: readonly Issue[], prefix: JSONPath, json: LocatedJson): ImportError[] {
  const out: ImportError[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...pathKeys(issue.path)];
    if (issue.code === 'unrecognized_keys') {
      // Point at each unknown member's name, where the typo is.
      const objectNode = nearestNode(json.root, path).node;
      for (const key of issue.keys) {
        const keyNode = objectNode.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0];
        out.push({
          ...json.at((keyNode ?? objectNode).offset),
          path: renderPath([...path, key]),
          message: `unknown field "${key}"`,
        });
      }
      continue;
    }
    const { node, missing } = nearestNode(json.root, path);
    const last = missing[missing.length - 1];
    let message: string;
    if (missing.length === 0) message = issueMessage(issue, getNodeValue(node) as unknown);
    else if (missing.length === 1 && typeof last === 'string' && issue.code !== 'custom')
      message = `missing required field "${last}"`;
    else message = issue.message;
    out.push({ ...json.at(node.offset), path: renderPath(path), message });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Exam file

/**
 * Parses and validates an exam file. On failure, every fault is reported (syntax errors alone
 * when the JSON does not parse), sorted by line. Note that the cross-field checks (dates in
 * order, answer keys among the options, unique ids) run only once the file has the right shape.
 */
export function parseExamFile(text: string): ExamParseResult {
  const read = readStrictJson(text);
  if (!read.ok) return read;
  const { json } = read;
  const result = examFileSchema.safeParse(json.value);
  const errors = [...json.errors, ...(result.success ? [] : jsonIssueErrors(result.error.issues, [], json))];
  if (errors.length > 0 || !result.success) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, exam: result.data };
}

// ---------------------------------------------------------------------------------------------
// Roster

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

function duplicateStudentIdError(studentId: string, firstLine: number, pos: Position, path: string): ImportError {
  return { ...pos, path, message: `duplicate studentId "${studentId}" (first on line ${firstLine})` };
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
  const firstLineOf = new Map<string, number>();
  list.forEach((item, i) => {
    const result = rosterEntrySchema.safeParse(item);
    if (result.success) entries.push(result.data);
    else errors.push(...jsonIssueErrors(result.error.issues, [...listPath, i], json));
    // Checked on the raw value so that a duplicate shows even when the row has other faults.
    const studentId =
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['studentId'] : undefined;
    if (typeof studentId !== 'string') return;
    const node = findNodeAtLocation(json.root, [...listPath, i, 'studentId']);
    if (node === undefined) return;
    const pos = json.at(node.offset);
    const first = firstLineOf.get(studentId);
    if (first === undefined) firstLineOf.set(studentId, pos.line);
    else errors.push(duplicateStudentIdError(studentId, first, pos, renderPath([...listPath, i, 'studentId'])));
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
  const firstLineOf = new Map<string, number>();
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
        else errors.push({ ...cellAt(name), path: name, message: `expected a number, received ${describe(cell)}` });
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
    const studentId = input['studentId'];
    if (typeof studentId === 'string') {
      const pos = cellAt('studentId');
      const first = firstLineOf.get(studentId);
      if (first === undefined) firstLineOf.set(studentId, pos.line);
      else errors.push(duplicateStudentIdError(studentId, first, pos, 'studentId'));
    }
  }
  if (rows.length === 0) errors.push({ ...header.start, path: '', message: 'the roster has no examinees' });
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };
  return { ok: true, entries };
}

// ---------------------------------------------------------------------------------------------
// Documents

/** The `exam:<examId>` document for a validated exam; `version` changes whenever the exam does. */
export function toExamDoc(exam: ExamFile): ExamDoc {
  return {
    ...exam,
    _id: examDocId(exam.examId),
    type: 'exam',
    schemaVersion: SCHEMA_VERSION,
    version: hashJson(exam as unknown as Json),
  };
}

/** The `examinee:<examId>:<studentId>` document: the roster entry with the access code replaced by its hash. */
export function toExamineeDoc(examId: string, entry: RosterEntry): ExamineeDoc {
  const { accessCode, ...rest } = entry;
  return {
    ...rest,
    _id: examineeDocId(examId, entry.studentId),
    type: 'examinee',
    schemaVersion: SCHEMA_VERSION,
    examId,
    accessCodeHash: accessCodeHash(examId, entry.studentId, accessCode),
  };
}

/** Errors as `file:line:column path: message`, one per line, the form editors and CI logs link to. */
export function formatImportErrors(fileName: string, errors: readonly ImportError[]): string {
  return errors
    .map((e) => `${fileName}:${e.line}:${e.column} ${e.path === '' ? '' : `${e.path}: `}${e.message}`)
    .join('\n');
}

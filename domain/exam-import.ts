/**
 * Reading an exam file for import: text in, a validated exam or a list of errors that point at
 * the line and column of the fault (import-errors.ts); the roster is roster-import.ts. No storage
 * and no file system here; the CLI reads the files and writes the documents.
 *
 * Format (docs/exam-format.md has every field): strict JSON (no comments, no trailing commas, no
 * duplicate member names, located-json.ts), checked with examFileSchema.
 *
 * Only the access code's hash ever leaves these modules inside a document (toExamineeDoc).
 */
import { accessCodeHash } from './access-code.js';
import { hashJson, type Json } from './canonical.js';
import {
  examDocId,
  examFileSchema,
  examineeDocId,
  SCHEMA_VERSION,
  type ExamDoc,
  type ExamFile,
  type ExamineeDoc,
  type RosterEntry,
} from './exam-format.js';
import { sortErrors, type ImportError } from './import-errors.js';
import { jsonIssueErrors, readStrictJson } from './located-json.js';

/** The outcome of parseExamFile. */
export type ExamParseResult = { ok: true; exam: ExamFile } | { ok: false; errors: ImportError[] };

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

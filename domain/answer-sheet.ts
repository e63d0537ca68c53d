/**
 * The parts of answers/v1 (see answers.ts for the spec) that the examinee's device needs too:
 * the canonical answer file and its bytes, the answered count, and the answer sheet that the
 * app replicates to the appliance while the exam runs. No schema library here, so that the
 * app's first load stays small; answers.ts validates what arrives.
 */
import { canonicalJson, sha256HexOfText, type Json } from './canonical.js';
import type { AnswerFile, AnswerValue } from './answer-types.js';

export { MAX_TEXT_ANSWER_LENGTH } from './answer-format.js';

/**
 * The autosaved state of one examinee's answers, as the app keeps it (RxDB) and replicates it.
 * `id` is `<examId>:<studentId>`; `counter` grows by one with every write on the device;
 * `versions[questionId]` is the counter of the write that last changed that question (its
 * answer or its flag), so that an older value of a question never overwrites a newer one, on any
 * hop (mergeAnswerSheets). `_deleted` is the replication protocol's field and is always false.
 * `versions` names every question the sheet has changed; it is optional on the wire: a sheet
 * without it counts every question at its counter.
 */
export interface AnswerSheet {
  id: string;
  counter: number;
  answers: Record<string, AnswerValue>;
  flagged: string[];
  versions?: Record<string, number>;
  _deleted: boolean;
}

/** The parts of a sheet that a merge reads. */
export type SheetState = Pick<AnswerSheet, 'counter' | 'answers' | 'flagged' | 'versions'>;

/**
 * The version of one question in a sheet: 0 for a question its versions do not name (never
 * changed), and the sheet's counter for every question of a sheet without versions.
 */
export function questionVersion(sheet: SheetState, questionId: string): number {
  return sheet.versions === undefined ? sheet.counter : (sheet.versions[questionId] ?? 0);
}

/**
 * Merges two states of one answer sheet question by question: each question (its answer and its
 * flag together) comes from the state that changed it last, the incoming one on a tie. The
 * result's counter is the larger of the two, and its versions name every question of either.
 */
export function mergeAnswerSheets(incoming: SheetState, stored: SheetState): Required<SheetState> {
  const ids = new Set([
    ...Object.keys(incoming.answers),
    ...Object.keys(stored.answers),
    ...incoming.flagged,
    ...stored.flagged,
    ...Object.keys(incoming.versions ?? {}),
    ...Object.keys(stored.versions ?? {}),
  ]);
  const answers: Record<string, AnswerValue> = {};
  const versions: Record<string, number> = {};
  const flagged = new Set<string>();
  const inFlagged = new Set(incoming.flagged);
  const storedFlagged = new Set(stored.flagged);
  for (const id of ids) {
    const inVersion = questionVersion(incoming, id);
    const storedVersion = questionVersion(stored, id);
    const fromIncoming = inVersion >= storedVersion;
    const source = fromIncoming ? incoming : stored;
    const value = source.answers[id];
    if (value !== undefined) answers[id] = value;
    if ((fromIncoming ? inFlagged : storedFlagged).has(id)) flagged.add(id);
    versions[id] = Math.max(inVersion, storedVersion);
  }
  return { counter: Math.max(incoming.counter, stored.counter), answers, flagged: [...flagged], versions };
}

/** The id of an examinee's answer sheet. */
export const answerSheetId = (examId: string, studentId: string) => `${examId}:${studentId}`;

/** Whether a value counts as no answer (blank text, nothing chosen). */
export function isEmptyAnswer(v: AnswerValue): boolean {
  return (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
}

/** The canonical form of an answer file (see the spec in answers.ts). */
export function canonicalAnswerFile(file: AnswerFile): AnswerFile {
  const answers: Record<string, AnswerValue> = {};
  for (const [id, v] of Object.entries(file.answers)) {
    if (isEmptyAnswer(v)) continue;
    if (typeof v === 'string') answers[id] = v.normalize('NFC');
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
      answers[id] = [...new Set(v as string[])].sort();
    else answers[id] = v;
  }
  return {
    format: file.format,
    examId: file.examId,
    studentId: file.studentId,
    answers,
    flagged: [...new Set(file.flagged)].sort(),
  };
}

/** The bytes (as text) that are submitted and hashed. */
export function serialiseAnswerFile(file: AnswerFile): string {
  return canonicalJson(canonicalAnswerFile(file) as unknown as Json);
}

/** SHA-256 (hex) of the serialised answer file. */
export function answerFileSha256(file: AnswerFile): string {
  return sha256HexOfText(serialiseAnswerFile(file));
}

/**
 * Words as an essay counter shows them: runs of characters between JavaScript's white space
 * (`\s`), counted in one pass without splitting (essays run to 200,000 characters).
 */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isWhiteSpace(text.charCodeAt(i));
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

/** The characters of `\s` in a JavaScript regular expression (WhiteSpace and LineTerminator). */
function isWhiteSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * The parts of answers/v1 (see answers.ts for the spec) that the examinee's device needs too:
 * the canonical answer file and its bytes, the answered count, and the answer sheet that the
 * app replicates to the appliance while the exam runs. No schema library here, so that the
 * app's first load stays small; answers.ts validates what arrives.
 */
import { canonicalJson, sha256HexOfText, type Json } from './canonical.js';
import type { AnswerFile, AnswerValue } from './answers.js';

/**
 * The autosaved state of one examinee's answers, as the app keeps it (RxDB) and replicates it.
 * `id` is `<examId>:<studentId>`; `counter` grows with every change on the device, so the
 * newest sheet wins; `_deleted` is the replication protocol's field and is always false.
 */
export interface AnswerSheet {
  id: string;
  counter: number;
  answers: Record<string, AnswerValue>;
  flagged: string[];
  _deleted: boolean;
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

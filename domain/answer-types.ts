/**
 * The types of answers/v1 (the spec is in answers.ts), in a module of their own: answers.ts
 * validates with a schema that checks exactly these (answers.test.ts compares the two), and
 * answer-sheet.ts, which the examinee's device loads without the schema library, uses them too.
 */

/** The format name an answer file carries. */
export const ANSWER_FILE_FORMAT = 'answers/v1';

/** An uploaded file that a file answer names. */
export interface FileRef {
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
  name: string;
  size: number;
}

/**
 * One question's answer: an option id or text (string), true-false (boolean), numeric (number),
 * multiple-choice option ids (string[]) or uploaded files (FileRef[]).
 */
export type AnswerValue = string | boolean | number | string[] | FileRef[];

/** An answer file as answers.ts specifies it. */
export interface AnswerFile {
  format: typeof ANSWER_FILE_FORMAT;
  examId: string;
  studentId: string;
  answers: Record<string, AnswerValue>;
  flagged: string[];
}

/**
 * What goes into the answer-file check (./check.ts, and its fast path ./fast-check.ts) and what
 * comes out of it, in a module of their own so that neither of the two imports the other for it.
 */
import type { FileRef } from '../../../domain/answers.js';
import type { ExamFile } from '../../../domain/exam-format.js';

/** The exam as the check needs it (what is sent to the worker). */
export type ExamForCheck = Pick<ExamFile, 'examId' | 'sections'>;

export interface AnswerFileSummary {
  /** The answers that name uploaded files, by question id. */
  fileAnswers: Record<string, FileRef[]>;
  score: number;
  maxScore: number;
  answered: number;
  total: number;
}

/**
 * answers/v1 (the spec is in answers.ts): the schemas the appliance checks every answer file,
 * draft and answer sheet with, and the types inferred from them, declared once. The examinee's
 * device imports only the types (erased when built), never the schemas, so zod stays off its
 * first load; the values it needs are in answer-format.ts.
 */
import { z } from 'zod';
import { ANSWER_FILE_FORMAT, MAX_TEXT_ANSWER_LENGTH } from './answer-format.js';

/** An uploaded file that a file answer names (its SHA-256 in lower-case hex). */
const fileRefSchema = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1).max(255),
  size: z.number().int().min(0),
});

/**
 * One answer's value (see the spec above), as the answer file, the autosaved draft and the
 * replicated answer sheet carry it; the appliance checks every one of them with this schema.
 */
export const answerValueSchema = z.union([
  z.string().max(MAX_TEXT_ANSWER_LENGTH),
  z.boolean(),
  z.number().refine(Number.isFinite, 'must be a finite number'),
  z.array(z.string().max(64)).max(26),
  z.array(fileRefSchema).max(20),
]);
/**
 * One question's answer: an option id or text (string), true-false (boolean), numeric (number),
 * multiple-choice option ids (string[]) or uploaded files (FileRef[]).
 */
export type AnswerValue = z.infer<typeof answerValueSchema>;
/** The answers by question id. */
export const answersSchema = z.record(z.string().max(64), answerValueSchema);

export type FileRef = z.infer<typeof fileRefSchema>;

/** Shape check of an answer file; answersFitExam then checks it against the exam. */
export const answerFileSchema = z.strictObject({
  format: z.literal(ANSWER_FILE_FORMAT),
  examId: z.string().max(64),
  studentId: z.string().max(64),
  answers: answersSchema,
  flagged: z.array(z.string().max(64)).max(1_000).default([]),
});
/** An answer file (its `flagged` always there once checked). */
export type AnswerFile = z.output<typeof answerFileSchema>;

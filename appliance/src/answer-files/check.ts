/**
 * The check of a submitted answer file's bytes (answers/v1, see domain/answers.ts): UTF-8, JSON
 * without "__proto__" members, the schema, it fits the exam and the examinee, and it is exactly
 * its canonical serialisation. What the appliance keeps of it is small: the answers naming files
 * (whose uploads must be the examinee's), the closed-question score and the answered count.
 *
 * The usual file, canonical already, is accepted by the fast path (./fast-check.ts) without
 * decoding its essays; anything else gets the full check. Runs in the answer-file worker
 * (./worker.ts) and, as a fallback, on the main thread.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  answeredCount,
  answerFileSchema,
  answersFitExam,
  gradeClosedQuestions,
  isCanonicalAnswerFileText,
  type FileRef,
} from '../../../domain/answers.js';
import { refuse, type Result } from '../../../domain/errors.js';
import { refuseProtoKeys } from '../../../domain/proto-keys.js';
import { fastCheckAnswerFile } from './fast-check.js';
import type { AnswerFileSummary, ExamForCheck } from './summary.js';

export type AnswerFileVerdict = Result<{ summary: AnswerFileSummary }>;

/** A received answer file: its SHA-256 (checked against what the client declared) and the verdict. */
export interface CheckedAnswerFile {
  sha256: string;
  verdict: AnswerFileVerdict;
}

/** Hashes and checks a received answer file. */
export function hashAndCheckAnswerFile(bytes: Uint8Array, exam: ExamForCheck, studentId: string): CheckedAnswerFile {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    verdict: checkAnswerFile(bytes, exam, studentId),
  };
}

export function checkAnswerFile(bytes: Uint8Array, exam: ExamForCheck, studentId: string): AnswerFileVerdict {
  // Not decoded leniently: a replacement character would make other bytes pass for canonical.
  if (!isUtf8(bytes)) return refuse('invalid-answer-file', 'not UTF-8');
  const summary = fastCheckAnswerFile(bytes, exam, studentId);
  if (summary) return { ok: true, summary };
  return fullCheckAnswerFile(bytes, exam, studentId);
}

/** The check of any answer file (UTF-8 already checked): decoded, parsed and compared whole. */
export function fullCheckAnswerFile(bytes: Uint8Array, exam: ExamForCheck, studentId: string): AnswerFileVerdict {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text, refuseProtoKeys);
  } catch {
    return refuse('invalid-answer-file', 'not JSON, or it has a "__proto__" member');
  }
  const parsed = answerFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse('invalid-answer-file', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const file = parsed.data;
  const fit = answersFitExam(file, exam, studentId);
  if (!fit.ok) return fit;
  if (!isCanonicalAnswerFileText(text, raw, file)) {
    return refuse('invalid-answer-file', 'not in canonical form (serialise it with serialiseAnswerFile)');
  }
  const fileAnswers: Record<string, FileRef[]> = {};
  for (const [id, v] of Object.entries(file.answers)) {
    if (Array.isArray(v) && v.some((x) => typeof x === 'object')) fileAnswers[id] = v as FileRef[];
  }
  const { score, maxScore } = gradeClosedQuestions(exam, file.answers);
  return { ok: true, summary: { fileAnswers, score, maxScore, ...answeredCount(exam, file.answers) } };
}

/**
 * Submission from the device: the answers are sealed first (the canonical answer file of
 * domain/answer-sheet.ts and its SHA-256, kept in the attempt document), then uploaded to
 * POST /api/exam/submission whenever the network allows. Sealing needs no network, so a
 * submission at time-up in a dead Wi-Fi is safe: the same bytes go up on reconnect, and a retry
 * of bytes already accepted is answered with the same receipt (the appliance treats it as a
 * replay).
 */
import { answerFileSha256, serialiseAnswerFile } from '../../../domain/answer-sheet.js';
import { callApi, type ApiResult } from '../shared/api';
import { apiHeaders } from './api';
import type { Receipt, SealedSubmission, SheetDoc } from './local-db';

/** Seals the sheet as the answer file that will be submitted. */
export function seal(
  sheet: Pick<SheetDoc, 'answers' | 'flagged'>,
  ids: { examId: string; studentId: string },
  submissionType: 'manual' | 'automatic',
  sealedAt: number,
): SealedSubmission {
  const file = {
    format: 'answers/v1' as const,
    examId: ids.examId,
    studentId: ids.studentId,
    answers: sheet.answers,
    flagged: sheet.flagged,
  };
  return { body: serialiseAnswerFile(file), sha256: answerFileSha256(file), submissionType, sealedAt };
}

/** GET /api/exam/submission: the submission that counts ('not-found': none, e.g. a proctor removed it). */
export function currentSubmission(token: string): Promise<ApiResult<{ submissionId: string }>> {
  return callApi('/api/exam/submission', { headers: apiHeaders(token) });
}

/** Sends the sealed answer file (the exact sealed bytes); the signed receipt on success. */
export function upload(token: string, sealed: SealedSubmission): Promise<ApiResult<{ receipt: Receipt }>> {
  return callApi('/api/exam/submission', {
    method: 'POST',
    headers: {
      ...apiHeaders(token),
      'content-type': 'application/json',
      'x-content-sha256': sealed.sha256,
      'x-submission-type': sealed.submissionType,
    },
    body: sealed.body,
  });
}

/**
 * The documents the appliance itself writes (submissions, drafts, drafts kept at time-up) and
 * their deterministic ids: shared by the store, its projection and replay, and by callers.
 */
import type { AnswerFile } from '../../../domain/answers.js';
import type { TimingCase } from '../../../domain/time-up.js';
import type { Receipt } from '../crypto/receipts.js';

/** A submission as stored (`submission:<examId>:<studentId>:<applianceId>:<n>`, see submissionDocId), immutable. */
export interface SubmissionDoc {
  _id: string;
  type: 'submission';
  schemaVersion: number;
  examId: string;
  studentId: string;
  n: number;
  applianceId: string;
  sha256: string;
  size: number;
  submissionType: 'manual' | 'automatic';
  receivedAt: number;
  late: boolean;
  /** The time-up case (domain/time-up.ts); absent in documents written before it existed. */
  timing?: TimingCase;
  /** When compared with the draft held at the deadline: the questions whose answers differ. */
  differingQuestions?: string[];
  receipt: Receipt;
  /** Closed questions' score and how many questions the answer file answers, at acceptance. */
  score: SubmissionScore;
}

export interface SubmissionScore {
  score: number;
  maxScore: number;
  answered: number;
  total: number;
}

/** The latest autosave (`draft:<examId>:<studentId>`), single writer, not fsynced. */
export interface DraftDoc {
  _id: string;
  _rev?: string;
  type: 'draft';
  schemaVersion: number;
  examId: string;
  studentId: string;
  counter: number;
  savedAt: number;
  answers: AnswerFile['answers'];
  flagged: string[];
  /**
   * The device's version of each question (domain/answer-sheet.ts): absent in drafts saved before
   * versions existed, where every question counts at the draft's counter.
   */
  versions?: Record<string, number>;
}

/**
 * The draft the appliance held from an examinee at their deadline, kept at (or lazily at the first
 * need after) the deadline: `timeup-draft:<examId>:<studentId>:<n>`, immutable and journaled like
 * the other appliance-owned documents (local: the sync pushes it, when it matters, as the blob a
 * time-up-answers-kept event names). n counts the deadlines (an extension after time-up makes a new one).
 */
export interface TimeUpDraftDoc {
  _id: string;
  type: 'timeup-draft';
  schemaVersion: number;
  examId: string;
  studentId: string;
  n: number;
  applianceId: string;
  /** The deadline it was held at (epoch ms), and when it was kept. */
  deadline: number;
  keptAt: number;
  /** Whether the appliance held any draft from the examinee then; if not, answers is empty. */
  heldDraft: boolean;
  draftCounter: number | null;
  draftSavedAt: number | null;
  answers: AnswerFile['answers'];
  flagged: string[];
  /** What the appliance saw of the device at the deadline (null: nothing known, e.g. restarted since). */
  presence: { lastSeen: number | null; streamOpen: boolean } | null;
}

export const timeUpDraftDocId = (examId: string, studentId: string, n: number) =>
  `timeup-draft:${examId}:${studentId}:${n}`;

/**
 * `submission:<examId>:<studentId>:<applianceId>:<n>`: the appliance in the id, so two boxes of
 * one hall that both accept an examinee's file never write the same id (documents written before
 * this have `submission:<examId>:<studentId>:<n>`; both forms are read everywhere).
 */
export const submissionDocId = (examId: string, studentId: string, applianceId: string, n: number) =>
  `submission:${examId}:${studentId}:${applianceId}:${n}`;
export const draftDocId = (examId: string, studentId: string) => `draft:${examId}:${studentId}`;

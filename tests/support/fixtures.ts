/**
 * Small exams, rosters and event chains for the domain tests. Exams go through examFileSchema.parse
 * so that the defaults (settings, scoring, maxLength, ...) are applied exactly as in production.
 */
import type { z } from 'zod';
import { MINUTE } from '../../domain/clock.js';
import { chainEvent, GENESIS_HASH, type ExamEvent, type NewEvent } from '../../domain/events.js';
import { examFileSchema, SCHEMA_VERSION, type ExamFile } from '../../domain/exam-format.js';
import { applyExamineeEvent, initialExamineeState, type ExamineeState } from '../../domain/examinee-state.js';
import { seededUint32 } from '../../domain/seeded-random.js';

export type ExamFileInput = z.input<typeof examFileSchema>;

export const EXAM_ID = 'BIO-101-2026';
export const STUDENT_ID = 's-1001';
export const APPLIANCE_ID = 'hall-a-box-1';

/** 2026-06-01 09:00 UTC, the official start of the fixture exam. */
export const START = Date.parse('2026-06-01T09:00:00Z');
/** The fixture exam lasts 90 minutes. */
export const DURATION_MINUTES = 90;
export const DOWNLOAD_OPENS = START - 60 * MINUTE;
export const DOWNLOAD_CLOSES = START + 30 * MINUTE;
/** 30 minutes after the end of the exam for an examinee with no accommodation. */
export const UPLOAD_DEADLINE = START + 120 * MINUTE;
export const LATE_LOGIN_MINUTES = 20;

const iso = (ms: number) => new Date(ms).toISOString();

/** One section with a question of every type, most with an answer key. */
export const QUESTIONS_INPUT = [
  {
    id: 'q-single',
    type: 'single-choice',
    prompt: 'Which organelle makes ATP?',
    points: 1,
    options: [
      { id: 'a', text: 'Nucleus' },
      { id: 'b', text: 'Mitochondrion' },
      { id: 'c', text: 'Ribosome' },
    ],
    answerKey: 'b',
  },
  {
    id: 'q-multi',
    type: 'multiple-choice',
    prompt: 'Which are nucleotides bases of DNA?',
    points: 2,
    options: [
      { id: 'a', text: 'Adenine' },
      { id: 'b', text: 'Uracil' },
      { id: 'c', text: 'Cytosine' },
      { id: 'd', text: 'Ribose' },
    ],
    answerKey: ['a', 'c'],
  },
  {
    id: 'q-multi-partial',
    type: 'multiple-choice',
    prompt: 'Which are mammals?',
    points: 3,
    scoring: 'partial',
    options: [
      { id: 'a', text: 'Whale' },
      { id: 'b', text: 'Bat' },
      { id: 'c', text: 'Human' },
      { id: 'd', text: 'Shark' },
      { id: 'e', text: 'Trout' },
    ],
    answerKey: ['a', 'b', 'c'],
  },
  { id: 'q-tf', type: 'true-false', prompt: 'Plants photosynthesise.', points: 1, answerKey: true },
  {
    id: 'q-num',
    type: 'numeric',
    prompt: 'pi to two decimals?',
    points: 2,
    answerKey: { value: 3.14159, tolerance: 0.005 },
  },
  {
    id: 'q-num-exact',
    type: 'numeric',
    prompt: '0.1 + 0.2?',
    points: 1,
    answerKey: { value: 0.3 },
  },
  {
    id: 'q-short',
    type: 'short-text',
    prompt: 'Capital of France?',
    points: 1,
    maxLength: 20,
    answerKey: { accepted: ['Paris', 'Ville de Paris'] },
  },
  {
    id: 'q-short-cs',
    type: 'short-text',
    prompt: 'Formula of table salt?',
    points: 1,
    answerKey: { accepted: ['NaCl'], caseSensitive: true },
  },
  { id: 'q-essay', type: 'essay', prompt: 'Explain osmosis in five words.', points: 5, maxWords: 5 },
  { id: 'q-file', type: 'file', prompt: 'Upload your lab report.', points: 10, accept: ['pdf', 'docx'] },
  {
    id: 'q-nokey',
    type: 'single-choice',
    prompt: 'Which topic did you like most?',
    points: 0,
    options: [
      { id: 'x', text: 'Cells' },
      { id: 'y', text: 'Genes' },
    ],
  },
] satisfies ExamFileInput['sections'][number]['questions'];

/** The exam file as the institution would write it, before parsing. */
export function examInput(overrides: Partial<ExamFileInput> = {}): ExamFileInput {
  return {
    formatVersion: 1,
    examId: EXAM_ID,
    title: 'Biology 101 final',
    assessmentType: 'final exam',
    scheduledStart: iso(START),
    durationMinutes: DURATION_MINUTES,
    downloadWindow: { opens: iso(DOWNLOAD_OPENS), closes: iso(DOWNLOAD_CLOSES) },
    uploadDeadline: iso(UPLOAD_DEADLINE),
    minimumClientVersion: '1.4.0',
    lateLoginMinutes: LATE_LOGIN_MINUTES,
    verificationMode: 'manual',
    sections: [{ id: 'part-1', title: 'Part 1', questions: [...QUESTIONS_INPUT] }],
    ...overrides,
  };
}

/** A parsed exam (defaults applied): the fixture exam with `overrides` on top. */
export function makeExam(overrides: Partial<ExamFileInput> = {}): ExamFile {
  return examFileSchema.parse(examInput(overrides));
}

/** An append-only event chain of one exam on one appliance, as the appliance writes it. */
export class TestChain {
  readonly events: ExamEvent[] = [];
  private head: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };

  constructor(
    readonly examId: string = EXAM_ID,
    readonly applianceId: string = APPLIANCE_ID,
  ) {}

  append(at: number, event: NewEvent): ExamEvent {
    const next = chainEvent(this.head, this.examId, this.applianceId, at, event, SCHEMA_VERSION);
    this.events.push(next);
    this.head = next;
    return next;
  }
}

/** Folds events into an examinee's state, as the projection does. */
export function foldEvents(events: readonly ExamEvent[], studentId: string = STUDENT_ID): ExamineeState {
  return events.reduce(applyExamineeEvent, initialExamineeState(studentId));
}

const examinee = { role: 'examinee', studentId: STUDENT_ID } as const;
const proctor = { role: 'proctor', username: 'chief' } as const;

/** Ready-made lifecycle events of the fixture examinee. */
export const EV = {
  signedIn: (deviceId = 'laptop-1', sessionNo = 1): NewEvent => ({
    kind: 'examinee-signed-in',
    actor: examinee,
    studentId: STUDENT_ID,
    data: { deviceId, sessionNo },
  }),
  reloginRequested: (deviceId = 'laptop-2'): NewEvent => ({
    kind: 'relogin-requested',
    actor: examinee,
    studentId: STUDENT_ID,
    data: { deviceId },
  }),
  reloginApproved: (deviceId = 'laptop-2', sessionNo = 2): NewEvent => ({
    kind: 'relogin-approved',
    actor: proctor,
    studentId: STUDENT_ID,
    data: { deviceId, sessionNo },
  }),
  reloginRejected: (deviceId = 'laptop-2'): NewEvent => ({
    kind: 'relogin-rejected',
    actor: proctor,
    studentId: STUDENT_ID,
    data: { deviceId },
  }),
  downloaded: (downloadNo = 1): NewEvent => ({
    kind: 'package-downloaded',
    actor: examinee,
    studentId: STUDENT_ID,
    data: { downloadNo, packageVersion: 'v1' },
  }),
  started: (): NewEvent => ({
    kind: 'exam-started',
    actor: examinee,
    studentId: STUDENT_ID,
    data: { via: 'key-released' },
  }),
  submitted: (n = 1, sha256 = 'a'.repeat(64), late = false): NewEvent => ({
    kind: 'submission-accepted',
    actor: examinee,
    studentId: STUDENT_ID,
    data: {
      submissionId: `submission:${EXAM_ID}:${STUDENT_ID}:${n}`,
      n,
      sha256,
      size: 1234,
      submissionType: 'manual',
      late,
    },
  }),
  submissionRemoved: (n = 1): NewEvent => ({
    kind: 'submission-removed',
    actor: proctor,
    studentId: STUDENT_ID,
    data: { submissionId: `submission:${EXAM_ID}:${STUDENT_ID}:${n}`, reason: 'wrong file' },
  }),
  verification: (decision: 'verified' | 'rejected' | 'retake'): NewEvent => ({
    kind: 'verification-decided',
    actor: proctor,
    studentId: STUDENT_ID,
    data: { decision },
  }),
  locked: (reason: 'reload' | 'fullscreen-exit' = 'reload'): NewEvent => ({
    kind: 'exam-locked',
    actor: examinee,
    studentId: STUDENT_ID,
    data: { reason },
  }),
  resumed: (challenge = 'AAAAA-AAAAA'): NewEvent => ({
    kind: 'resume-code-used',
    actor: examinee,
    studentId: STUDENT_ID,
    data: { challenge },
  }),
  presence: (connected: boolean): NewEvent => ({
    kind: 'presence-changed',
    actor: { role: 'system' },
    studentId: STUDENT_ID,
    data: { connected },
  }),
};

/** A deterministic byte source (mulberry32) standing in for crypto randomness. */
export function seededRandomBytes(seed: number): (n: number) => Uint8Array {
  const next = seededUint32(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = next() & 0xff;
    return out;
  };
}

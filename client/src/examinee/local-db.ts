/**
 * What the examinee's device keeps of an exam in progress, in RxDB on IndexedDB (Dexie storage;
 * DESIGN.md "Chosen dependencies"): it survives a reload, a browser restart and a lost network.
 *
 * - `sheets`: the answer sheet (domain/answer-sheet.ts), one per exam and examinee, written at
 *   every change and replicated to the appliance (answer-sync.ts).
 * - `attempts`: this device's side of the attempt, never replicated: the opened exam, the
 *   deadline on the appliance's clock, the resume-code triples and spent challenges, the lock,
 *   the sealed submission waiting to be uploaded and the signed receipt.
 */
import {
  createRxDatabase,
  type RxCollection,
  type RxConflictHandler,
  type RxDatabase,
  type RxJsonSchema,
} from 'rxdb/plugins/core';
import type { TimingCase } from '../../../domain/time-up.js';
import { addRxPlugin } from 'rxdb/plugins/core';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { mergeAnswerSheets } from '../../../domain/answer-sheet.js';
import type { AnswerValue } from '../../../domain/answers.js';
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import type { ExamForExaminees } from '../shared/exam-package';

/**
 * An answer sheet as RxDB stores it (its `_deleted` is RxDB's own field): `counter` grows by one
 * with every write, `versions` holds the counter of the write that last changed each question
 * (domain/answer-sheet.ts).
 */
export interface SheetDoc {
  id: string;
  counter: number;
  answers: Record<string, AnswerValue>;
  flagged: string[];
  versions: Record<string, number>;
}

/** Why the exam is locked on this device. */
export type LockReason = 'reload' | 'fullscreen-exit';

/** The answer file sealed for submission (its exact bytes, so that a retry sends the same). */
export type { TimingCase };

export interface SealedSubmission {
  body: string;
  sha256: string;
  submissionType: 'manual' | 'automatic';
  /** When it was sealed, on the appliance's clock. */
  sealedAt: number;
}

/** The signed receipt as the appliance returns it (format receipt/v2, or v1 without timing; appliance/src/crypto/receipts.ts). */
export interface Receipt {
  payload: {
    format: string;
    /** The time-up case (domain/time-up.ts); absent in receipt/v1. */
    timing?: TimingCase;
    examId: string;
    studentId: string;
    submissionId: string;
    sha256: string;
    size: number;
    submissionType: 'manual' | 'automatic';
    receivedAt: string;
    [key: string]: unknown;
  };
  signature: string;
  publicKey: string;
}

export interface AttemptDoc {
  id: string;
  examId: string;
  studentId: string;
  exam: ExamForExaminees;
  /** The examinee's deadline on the appliance's clock (ms); moved by extensions. */
  deadline: number;
  lockOnReload: boolean;
  requireFullscreen: boolean;
  triples: ResumeTriple[];
  /** Challenges used or locked on this device. */
  spent: string[];
  lock: { reason: LockReason; at: number } | null;
  sealed: SealedSubmission | null;
  receipt: Receipt | null;
  /** The question shown last (navigation comes back to it). */
  currentQuestionId: string | null;
  /**
   * A proctor approved a sign-in on another device: the exam continues there, this device only
   * shows its answers (read-only). `message` is the appliance's.
   */
  moved: { at: number; message: string } | null;
}

const sheetSchema: RxJsonSchema<SheetDoc> = {
  title: 'answer sheet',
  // 1: versions per question.
  version: 1,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 200 },
    counter: { type: 'integer', minimum: 0 },
    answers: { type: 'object' },
    flagged: { type: 'array', items: { type: 'string' } },
    versions: { type: 'object' },
  },
  required: ['id', 'counter', 'answers', 'flagged', 'versions'],
};

/**
 * A sheet kept by an earlier version of the app (open on a device while the app was updated):
 * every question it names counts at its counter, as the appliance counts a sheet without versions.
 */
export function migrateSheetV0(old: Omit<SheetDoc, 'versions'>): SheetDoc {
  const versions: Record<string, number> = {};
  for (const q of [...Object.keys(old.answers), ...old.flagged]) versions[q] = old.counter;
  return { ...old, versions };
}

const attemptSchema: RxJsonSchema<AttemptDoc> = {
  title: 'attempt',
  // 1: moved (the session went to another device).
  version: 1,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 200 },
    examId: { type: 'string' },
    studentId: { type: 'string' },
    exam: { type: 'object' },
    deadline: { type: 'number' },
    lockOnReload: { type: 'boolean' },
    requireFullscreen: { type: 'boolean' },
    triples: { type: 'array', items: { type: 'object' } },
    spent: { type: 'array', items: { type: 'string' } },
    lock: { type: ['object', 'null'] },
    sealed: { type: ['object', 'null'] },
    receipt: { type: ['object', 'null'] },
    currentQuestionId: { type: ['string', 'null'] },
    moved: { type: ['object', 'null'] },
  },
  required: ['id', 'examId', 'studentId', 'exam', 'deadline', 'triples', 'spent'],
};

/**
 * The device's sheet and the appliance's differ (another device or tab wrote too): merged
 * question by question, each from the state that changed it last, and counted one above both so
 * that the merge is the newest sheet and goes back to the appliance.
 */
export const sheetConflictHandler: RxConflictHandler<SheetDoc> = {
  isEqual: (a, b) => a.counter === b.counter,
  resolve: (i) => {
    const master = i.realMasterState;
    const merged = mergeAnswerSheets(i.newDocumentState, { ...master, versions: master.versions ?? {} });
    return Promise.resolve({ ...master, ...merged, counter: merged.counter + 1 });
  },
};

export interface LocalCollections {
  sheets: RxCollection<SheetDoc>;
  attempts: RxCollection<AttemptDoc>;
}
export type LocalDb = RxDatabase<LocalCollections>;

/**
 * RxDB hashes document data for its revisions. Its default uses crypto.subtle, which only secure
 * contexts have (DESIGN.md): SHA-256 from @noble/hashes works on plain HTTP too.
 */
async function hashFunction(input: string | ArrayBuffer | Blob): Promise<string> {
  if (typeof input === 'string') return bytesToHex(sha256(utf8ToBytes(input)));
  const buffer = input instanceof Blob ? await input.arrayBuffer() : input;
  return bytesToHex(sha256(new Uint8Array(buffer)));
}

let opened: Promise<LocalDb> | undefined;

// Sheets kept before an update of the app are migrated when the collection opens.
addRxPlugin(RxDBMigrationSchemaPlugin);

/** The device's database (opened once per page). */
export function localDb(): Promise<LocalDb> {
  opened ??= (async () => {
    const db = await createRxDatabase<LocalCollections>({
      name: 'exam-hall-local',
      storage: getRxStorageDexie(),
      hashFunction,
      // One tab at a time holds the exam; a second tab shares the same data.
      multiInstance: true,
      closeDuplicates: true,
    });
    await db.addCollections({
      sheets: {
        schema: sheetSchema,
        conflictHandler: sheetConflictHandler,
        migrationStrategies: { 1: migrateSheetV0 },
      },
      attempts: {
        schema: attemptSchema,
        migrationStrategies: { 1: (old: Omit<AttemptDoc, 'moved'>): AttemptDoc => ({ ...old, moved: null }) },
      },
    });
    return db;
  })();
  return opened;
}

/** The id of an attempt document (the same as its answer sheet's). */
export const attemptId = (examId: string, studentId: string) => `${examId}:${studentId}`;

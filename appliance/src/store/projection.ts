/**
 * The in-memory projection: what the monitor and the exam-day rules read. It is roster + events
 * (+ drafts' progress), rebuilt from the database at start and updated synchronously as each
 * event is recorded, so a check-then-act on it (e.g. the download limit) cannot race.
 *
 * Only the store writes it (hall-store.ts, replay.ts): everyone else gets a ProjectionView,
 * whose maps are read-only.
 */
import { answeredCount } from '../../../domain/answers.js';
import { questionVersion } from '../../../domain/answer-sheet.js';
import { examineeTimeline, type ExamineeTimeline } from '../../../domain/exam-clock.js';
import type { ExamDoc, ExamineeDoc } from '../../../domain/exam-format.js';
import { applyExamineeEvent, initialExamineeState, type ExamineeState } from '../../../domain/examinee-state.js';
import { GENESIS_HASH, type ExamEvent } from '../../../domain/events.js';
import { applyExamWideEvent, initialExamWideState, type ExamWideState } from '../../../domain/exam-state.js';
import { answerDigests, type AnswerDigests, type PresenceAtDeadline } from '../../../domain/time-up.js';
import type { Receipt } from '../crypto/receipts.js';
import type { DraftDoc, SubmissionDoc, SubmissionScore, TimeUpDraftDoc } from './documents.js';

/** Progress from the latest autosave. */
export interface DraftProgress {
  counter: number;
  answered: number;
  total: number;
  savedAt: number;
  /** PouchDB revision of the draft document, so the next save needs no read. */
  rev: string;
  /** The version of each question in the draft, so that a save reads the draft only to merge. */
  versions: Record<string, number>;
}

/** The draft kept at the examinee's latest passed deadline (a timeup-draft document), as the rules need it. */
export interface TimeUpSeal {
  id: string;
  n: number;
  deadline: number;
  heldDraft: boolean;
  /** Digests of its answers (domain/time-up.ts answerDigests), to tell which answers differ. */
  digests: AnswerDigests;
  presence: PresenceAtDeadline | null;
}

export interface ExamineeEntry {
  /** The roster entry; undefined when events arrived before the roster (e.g. during sync). */
  doc: ExamineeDoc | undefined;
  state: ExamineeState;
  draft: DraftProgress | undefined;
  /** The draft kept at the latest deadline that has passed, once kept. */
  timeUp?: TimeUpSeal | undefined;
}

export interface ExamEntry {
  doc: ExamDoc;
  examinees: Map<string, ExamineeEntry>;
  /** Exam-wide changes proctors made (extension, late-login limit, hardware checks). */
  wide: ExamWideState;
  /** Every message of the exam (announcements, private ones, examinees' questions), in order. */
  messages: Extract<ExamEvent, { kind: 'message-sent' }>[];
}

/** The projection as the store lends it out: reads and listeners, no writes. */
export type ProjectionView = Pick<
  Projection,
  'exams' | 'receipts' | 'scores' | 'examinee' | 'examsOf' | 'head' | 'timeline' | 'onEvent' | 'onProgress'
>;

export class Projection {
  readonly #exams = new Map<string, ExamEntry>();
  /** Events that arrived before their exam document. */
  private readonly orphanEvents = new Map<string, ExamEvent[]>();
  /** Head of this appliance's chain per exam. */
  private readonly heads = new Map<string, { seq: number; hash: string }>();
  readonly #receipts = new Map<string, Receipt>();
  readonly #scores = new Map<string, SubmissionScore>();
  private readonly listeners = new Set<(event: ExamEvent) => void>();
  private readonly progressListeners = new Set<(examId: string, studentId: string) => void>();

  constructor(readonly applianceId: string) {}

  get exams(): ReadonlyMap<string, ExamEntry> {
    return this.#exams;
  }

  /** Receipts by submission id: a submission is acknowledged once its receipt is here. */
  get receipts(): ReadonlyMap<string, Receipt> {
    return this.#receipts;
  }

  /** Closed-question scores and answered counts by submission id. */
  get scores(): ReadonlyMap<string, SubmissionScore> {
    return this.#scores;
  }

  setExam(doc: ExamDoc): void {
    const existing = this.#exams.get(doc.examId);
    if (existing) {
      existing.doc = doc;
      return;
    }
    this.#exams.set(doc.examId, { doc, examinees: new Map(), wide: initialExamWideState(), messages: [] });
    for (const e of this.orphanEvents.get(doc.examId) ?? []) this.applyEvent(e);
    this.orphanEvents.delete(doc.examId);
  }

  setExaminee(doc: ExamineeDoc): void {
    const exam = this.#exams.get(doc.examId);
    if (!exam) return;
    const entry = this.entry(exam, doc.studentId);
    entry.doc = doc;
  }

  private entry(exam: ExamEntry, studentId: string): ExamineeEntry {
    let entry = exam.examinees.get(studentId);
    if (!entry) {
      entry = {
        doc: undefined,
        state: initialExamineeState(studentId),
        draft: undefined,
      };
      exam.examinees.set(studentId, entry);
    }
    return entry;
  }

  /** The examinee's entry, only when they are on the roster. */
  examinee(examId: string, studentId: string): (ExamineeEntry & { doc: ExamineeDoc }) | undefined {
    const entry = this.#exams.get(examId)?.examinees.get(studentId);
    return entry?.doc ? (entry as ExamineeEntry & { doc: ExamineeDoc }) : undefined;
  }

  /** Exams whose roster has this student id. */
  examsOf(studentId: string): ExamEntry[] {
    return [...this.#exams.values()].filter((e) => e.examinees.get(studentId)?.doc !== undefined);
  }

  /** The chain head of this appliance for an exam. */
  head(examId: string): { seq: number; hash: string } {
    return this.heads.get(examId) ?? { seq: 0, hash: GENESIS_HASH };
  }

  applyEvent(event: ExamEvent): void {
    if (event.applianceId === this.applianceId) {
      const head = this.head(event.examId);
      if (event.seq > head.seq) this.heads.set(event.examId, { seq: event.seq, hash: event.hash });
    }
    const exam = this.#exams.get(event.examId);
    if (!exam) {
      const list = this.orphanEvents.get(event.examId) ?? [];
      list.push(event);
      this.orphanEvents.set(event.examId, list);
      return;
    }
    if (event.kind === 'message-sent') exam.messages.push(event);
    if (event.studentId === undefined) {
      exam.wide = applyExamWideEvent(exam.wide, event);
    } else {
      const entry = this.entry(exam, event.studentId);
      entry.state = applyExamineeEvent(entry.state, event);
    }
    for (const listener of this.listeners) listener(event);
  }

  timeline(exam: ExamEntry, entry: ExamineeEntry & { doc: ExamineeDoc }): ExamineeTimeline {
    return examineeTimeline(exam.doc, effectiveAccommodation(entry), {
      examExtraMinutes: exam.wide.extraMinutes,
      personalExtraMinutes: entry.state.personalExtraMinutes,
      examLateLoginMinutes: exam.wide.lateLoginMinutes,
      personalLateLoginMinutes: entry.state.personalLateLoginMinutes,
    });
  }

  /** A submission's receipt and score (its documents are durable: it is acknowledged now). */
  addSubmission(s: SubmissionDoc): void {
    this.#receipts.set(s._id, s.receipt);
    this.#scores.set(s._id, s.score);
  }

  /**
   * The latest autosave's progress. Autosaves are not events, so how much an examinee has
   * answered changes without one: when it does, the progress listeners hear of it and the live
   * monitor sends the row again.
   */
  setDraftProgress(d: DraftDoc & { _rev: string }): void {
    const entry = this.examinee(d.examId, d.studentId);
    const exam = this.#exams.get(d.examId);
    if (!entry || !exam) return;
    const { answered, total } = answeredCount(exam.doc, d.answers);
    const before = entry.draft;
    const versions: Record<string, number> = {};
    for (const q of [...Object.keys(d.answers), ...d.flagged]) versions[q] = questionVersion(d, q);
    Object.assign(versions, d.versions);
    entry.draft = { counter: d.counter, answered, total, savedAt: d.savedAt, rev: d._rev, versions };
    if (before?.answered !== answered || before.total !== total) {
      for (const listener of this.progressListeners) listener(d.examId, d.studentId);
    }
  }

  /** The draft kept at a deadline, unless a later one is known; the examinee's seal either way. */
  setTimeUpSeal(d: TimeUpDraftDoc): TimeUpSeal | undefined {
    const entry = this.examinee(d.examId, d.studentId);
    if (!entry || (entry.timeUp && entry.timeUp.n >= d.n)) return entry?.timeUp;
    entry.timeUp = {
      id: d._id,
      n: d.n,
      deadline: d.deadline,
      heldDraft: d.heldDraft,
      digests: answerDigests(d.answers),
      presence: d.presence && { lastSeen: d.presence.lastSeen ?? undefined, streamOpen: d.presence.streamOpen },
    };
    return entry.timeUp;
  }

  /** Called when an examinee's answered count changes (see setDraftProgress). */
  onProgress(listener: (examId: string, studentId: string) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** Called after every event is applied (the live monitor listens here). */
  onEvent(listener: (event: ExamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The examinee's accommodation: a proctor's setting, else the roster's. */
export function effectiveAccommodation(entry: ExamineeEntry & { doc: ExamineeDoc }): number {
  return entry.state.accommodationPercent ?? entry.doc.accommodationPercent;
}

/** The examinee's download limit: a proctor's setting, else the roster's. */
export function effectiveMaxDownloads(entry: ExamineeEntry & { doc: ExamineeDoc }): number {
  return entry.state.maxDownloads ?? entry.doc.maxDownloads;
}

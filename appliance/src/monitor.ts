/**
 * The live exam monitor on the appliance: participant rows and exam info computed from the
 * projection, and a subscription that turns every recorded event into the row or exam update
 * the dashboard needs (a snapshot first, then changes).
 */
import { examQuestions } from '../../domain/answers.js';
import type { ExamEvent } from '../../domain/events.js';
import { activeSubmission } from '../../domain/examinee-state.js';
import { examProctoring } from '../../domain/exam-state.js';
import { snapshotCost } from '../../domain/snapshot-cost.js';
import {
  participantRow,
  statusCounts,
  trackingTotals,
  type ExamInfo,
  type MonitorMessage,
  type ParticipantRow,
} from '../../domain/monitor.js';
import { SlicedDelivery, type Recipient } from './sliced-delivery.js';
import type { HallStore } from './store/hall-store.js';
import type { ExamEntry, ExamineeEntry } from './store/projection.js';
import type { ExamineeDoc } from '../../domain/exam-format.js';

export type MonitorUpdate =
  | { type: 'row'; row: ParticipantRow }
  | { type: 'exam'; info: ExamInfo }
  | { type: 'message'; message: MonitorMessage };

export function messageOf(event: ExamEvent): MonitorMessage | undefined {
  if (event.kind !== 'message-sent') return undefined;
  return {
    messageId: event.data.messageId,
    at: new Date(event.at).toISOString(),
    audience: event.data.audience,
    studentId: event.studentId ?? null,
    questionId: event.data.questionId ?? null,
    text: event.data.text,
    from: event.actor,
  };
}

/** What an examinee's own stream hears of: a change of theirs or of the exam, or a message. */
export type ExamineeUpdate = { type: 'changed' } | { type: 'message'; message: MonitorMessage };

/** The examinee streams of one exam, by student: one projection listener for all of them. */
interface ExamineeFanOut {
  byStudent: Map<string, Set<Recipient<ExamineeUpdate>>>;
  stop: () => void;
}

/** The monitor streams of one exam: one projection listener for all of them. */
interface MonitorFanOut {
  recipients: Set<Recipient<MonitorUpdate>>;
  stop: () => void;
}

export class Monitor {
  private readonly examineeFanOuts = new Map<string, ExamineeFanOut>();
  private readonly monitorFanOuts = new Map<string, MonitorFanOut>();
  /** Every stream's updates, in order, a slice per turn of the event loop. */
  private readonly delivery = new SlicedDelivery();

  constructor(
    private readonly store: HallStore,
    /** The data disk's free bytes, when known (disk-space.ts). */
    private readonly diskFree: () => number | undefined = () => undefined,
  ) {}

  exam(examId: string): ExamEntry | undefined {
    return this.store.projection.exams.get(examId);
  }

  row(exam: ExamEntry, entry: ExamineeEntry & { doc: ExamineeDoc }): ParticipantRow {
    const submission = activeSubmission(entry.state);
    return participantRow({
      exam: exam.doc,
      wide: exam.wide,
      doc: entry.doc,
      state: entry.state,
      timeline: this.store.projection.timeline(exam, entry),
      progress: entry.draft,
      submissionScore: submission ? this.store.projection.scores.get(submission.submissionId) : undefined,
      totalQuestions: examQuestions(exam.doc).length,
      now: this.store.clock.now(),
    });
  }

  rows(exam: ExamEntry): ParticipantRow[] {
    const out: ParticipantRow[] = [];
    for (const entry of exam.examinees.values()) {
      if (entry.doc) out.push(this.row(exam, entry as ExamineeEntry & { doc: ExamineeDoc }));
    }
    return out;
  }

  /** The Exam info tab: settings (the editable ones marked), countdown and totals. */
  examInfo(exam: ExamEntry, rows: ParticipantRow[] = this.rows(exam)): ExamInfo {
    const d = exam.doc;
    const now = this.store.clock.now();
    const start = Date.parse(d.scheduledStart);
    const proctoring = examProctoring(exam);
    return {
      examId: d.examId,
      title: d.title,
      assessmentType: d.assessmentType,
      scheduledStart: d.scheduledStart,
      durationMinutes: d.durationMinutes,
      downloadWindow: d.downloadWindow,
      msUntilStart: Math.max(0, start - now),
      serverNow: now,
      minimumClientVersion: d.minimumClientVersion,
      uploadDeadline: d.uploadDeadline ?? null,
      verificationMode: exam.wide.verificationMode ?? d.verificationMode,
      version: d.version,
      editable: {
        lateLoginMinutes: exam.wide.lateLoginMinutes ?? d.lateLoginMinutes,
        extraMinutes: exam.wide.extraMinutes,
        disabledHardwareChecks: exam.wide.disabledHardwareChecks ?? [],
        allowedNetworks: exam.wide.allowedNetworks,
        verificationMode: exam.wide.verificationMode ?? d.verificationMode,
        proctoringType: proctoring.type,
        snapshotIntervalSeconds: proctoring.intervalSeconds,
      },
      proctoring: {
        ...this.snapshotCost(exam, rows),
        consentText: d.settings.proctoring.consentText ?? null,
        cameraRequired: d.settings.proctoring.cameraRequired,
      },
      hardwareChecks: d.settings.hardwareChecks,
      verificationPasswordsGenerated: exam.wide.verificationPasswordsGenerated,
      totals: trackingTotals(rows, d.uploadDeadline),
      statusCounts: statusCounts(rows),
    };
  }

  /** What the exam's snapshots take on disk (the whole exam's estimate, and what is stored). */
  snapshotCost(exam: ExamEntry, rows: ParticipantRow[] = this.rows(exam)) {
    let takenBytes = 0;
    for (const entry of exam.examinees.values()) takenBytes += entry.state.snapshotBytes;
    const d = exam.doc;
    return snapshotCost(
      rows,
      { scheduledStart: d.scheduledStart, durationMinutes: d.durationMinutes, ...examProctoring(exam) },
      { takenBytes, diskFreeBytes: this.diskFree() ?? null },
    );
  }

  /**
   * The disk the snapshots of exams not over yet still need (their estimate less what is already
   * stored): what /api/health tells the doctor, which warns when the data disk cannot hold it.
   */
  snapshotsStillNeeded(): { bytes: number; exams: number } {
    let bytes = 0;
    let exams = 0;
    const now = this.store.clock.now();
    for (const exam of this.store.projection.exams.values()) {
      // Cheap for exams without snapshots (most): no rows computed.
      const anyone = [...exam.examinees.values()].some((e) => (e.state.proctoringType ?? 'none') !== 'none');
      if (examProctoring(exam).type === 'none' && !anyone) continue;
      const rows = this.rows(exam);
      const over = rows.every((r) => Date.parse(r.deadline) < now || r.status === 'submitted');
      if (over || rows.length === 0) continue;
      const cost = this.snapshotCost(exam, rows);
      if (cost.estimateBytes === 0) continue;
      bytes += Math.max(0, cost.estimateBytes - cost.takenBytes);
      exams++;
    }
    return { bytes, exams };
  }

  /** Every message of an exam, oldest first. */
  messages(examId: string): MonitorMessage[] {
    const events = this.exam(examId)?.messages ?? [];
    return events.flatMap((e) => messageOf(e) ?? []).sort((a, b) => a.at.localeCompare(b.at));
  }

  /**
   * Calls `send` with what one examinee's own stream needs, until the returned function is called:
   * 'changed' when an event or autosave of theirs or an exam-wide event was recorded, and messages
   * to everyone or to them. Unlike `subscribe` (the proctors' monitor) it computes no rows, and
   * one projection listener per exam serves every examinee's stream by student id, so an event
   * costs the streams of its own examinee, not one call per examinee in the hall.
   */
  subscribeExaminee(examId: string, studentId: string, send: (update: ExamineeUpdate) => void): () => void {
    let fanOut = this.examineeFanOuts.get(examId);
    if (!fanOut) {
      const byStudent = new Map<string, Set<Recipient<ExamineeUpdate>>>();
      const deliver = (id: string, update: ExamineeUpdate) => {
        const own = byStudent.get(id);
        if (own) this.delivery.send([...own], update);
      };
      // A message to the hall reaches its 1,000 streams in slices (sliced-delivery.ts).
      const everyone = (update: ExamineeUpdate) => {
        const all: Recipient<ExamineeUpdate>[] = [];
        for (const listeners of byStudent.values()) for (const r of listeners) all.push(r);
        this.delivery.send(all, update);
      };
      const projection = this.store.projection;
      const stopProgress = projection.onProgress((changedExamId, changedStudentId) => {
        if (changedExamId === examId) deliver(changedStudentId, { type: 'changed' });
      });
      const stopEvents = projection.onEvent((event) => {
        if (event.examId !== examId) return;
        const message = messageOf(event);
        if (message) {
          if (message.audience === 'all') everyone({ type: 'message', message });
          else if (message.audience === 'examinee' && message.studentId !== null)
            deliver(message.studentId, { type: 'message', message });
        }
        if (event.studentId === undefined) everyone({ type: 'changed' });
        else deliver(event.studentId, { type: 'changed' });
      });
      fanOut = {
        byStudent,
        stop: () => {
          stopProgress();
          stopEvents();
        },
      };
      this.examineeFanOuts.set(examId, fanOut);
    }
    const own = fanOut;
    let listeners = own.byStudent.get(studentId);
    if (!listeners) own.byStudent.set(studentId, (listeners = new Set()));
    const recipient: Recipient<ExamineeUpdate> = { deliver: send, closed: false };
    listeners.add(recipient);
    return () => {
      recipient.closed = true;
      listeners.delete(recipient);
      if (listeners.size === 0) own.byStudent.delete(studentId);
      if (own.byStudent.size === 0) {
        own.stop();
        this.examineeFanOuts.delete(examId);
      }
    };
  }

  /**
   * Calls `send` with each change of the exam, until the returned function is called. One
   * projection listener per exam computes each change once for every monitor stream open on it.
   */
  subscribe(examId: string, send: (update: MonitorUpdate) => void): () => void {
    let fanOut = this.monitorFanOuts.get(examId);
    if (!fanOut) {
      const recipients = new Set<Recipient<MonitorUpdate>>();
      const everyone = (update: MonitorUpdate) => this.delivery.send([...recipients], update);
      const projection = this.store.projection;
      // An autosave that changes how much was answered is no event, but the row's progress changes.
      const stopProgress = projection.onProgress((changedExamId, studentId) => {
        if (changedExamId !== examId) return;
        const exam = this.exam(examId);
        const entry = projection.examinee(examId, studentId);
        if (exam && entry) everyone({ type: 'row', row: this.row(exam, entry) });
      });
      const stopEvents = projection.onEvent((event) => {
        if (event.examId !== examId) return;
        const exam = this.exam(examId);
        if (!exam) return;
        const message = messageOf(event);
        if (message) everyone({ type: 'message', message });
        if (event.studentId === undefined) {
          everyone({ type: 'exam', info: this.examInfo(exam) });
          return;
        }
        const entry = projection.examinee(examId, event.studentId);
        if (entry) everyone({ type: 'row', row: this.row(exam, entry) });
      });
      fanOut = {
        recipients,
        stop: () => {
          stopProgress();
          stopEvents();
        },
      };
      this.monitorFanOuts.set(examId, fanOut);
    }
    const own = fanOut;
    const recipient: Recipient<MonitorUpdate> = { deliver: send, closed: false };
    own.recipients.add(recipient);
    return () => {
      recipient.closed = true;
      own.recipients.delete(recipient);
      if (own.recipients.size === 0) {
        own.stop();
        this.monitorFanOuts.delete(examId);
      }
    };
  }
}

/**
 * The examinee's deadline on the appliance: the draft held at it is kept (a timeup-draft
 * document) before anything overwrites it, a submission arriving after it is told apart
 * (domain/time-up.ts: sealed at time-up, sealed offline, changed after time-up, late), and when
 * it was changed after time-up the kept draft becomes an answer file of its own.
 */
import { readFile } from 'node:fs/promises';
import type { AnswerFile } from '../../../domain/answers.js';
import { serialiseAnswerFile } from '../../../domain/answer-sheet.js';
import type { NewEvent } from '../../../domain/events.js';
import { answerDigests, decideTiming, needsComparison, type TimingDecision } from '../../../domain/time-up.js';
import type { ExamEntry, TimeUpSeal } from '../store/projection.js';
import type { ExamDayContext, RosterEntry } from './context.js';

export class TimeUp {
  constructor(private readonly ctx: ExamDayContext) {}

  /**
   * Keeps the draft held at the examinee's deadline (a timeup-draft document), once the deadline
   * has passed and unless kept already for this deadline. The caller holds the examinee's lock;
   * drafts change only under it and every save after the deadline comes here first, so the
   * stored draft is still the one held at the deadline.
   */
  async keepIfDue(exam: ExamEntry, entry: RosterEntry): Promise<TimeUpSeal | undefined> {
    const { deadline } = this.ctx.timeline(exam, entry);
    if (this.ctx.now <= deadline) return undefined;
    if (entry.timeUp?.deadline === deadline) return entry.timeUp;
    const examId = exam.doc.examId;
    const studentId = entry.doc.studentId;
    const draft = await this.ctx.store.draft(examId, studentId);
    const presence = this.ctx.options.presenceAtDeadline?.(examId, studentId, deadline);
    return this.ctx.store.keepTimeUpDraft({
      examId,
      studentId,
      n: (entry.timeUp?.n ?? 0) + 1,
      deadline,
      keptAt: this.ctx.now,
      heldDraft: draft !== undefined,
      draftCounter: draft?.counter ?? null,
      draftSavedAt: draft?.savedAt ?? null,
      answers: draft?.answers ?? {},
      flagged: draft?.flagged ?? [],
      presence: presence ? { lastSeen: presence.lastSeen ?? null, streamOpen: presence.streamOpen } : null,
    });
  }

  /** The draft kept at the examinee's deadline (kept now if due); undefined before the deadline. */
  seal(exam: ExamEntry, entry: RosterEntry): Promise<TimeUpSeal | undefined> {
    return this.ctx.underExamineeLock(exam, entry, () => this.keepIfDue(exam, entry));
  }

  /**
   * The timing case of a submission arriving now (domain/time-up.ts), reading the received file's
   * answers only when they must be compared with the draft held at the deadline.
   */
  async submissionTiming(
    exam: ExamEntry,
    entry: RosterEntry,
    tmpPath: string,
    claimedType: 'manual' | 'automatic',
  ): Promise<{ timing: TimingDecision; seal: TimeUpSeal | undefined }> {
    const timeline = this.ctx.timeline(exam, entry);
    const arrivedAt = this.ctx.now;
    const seal = await this.keepIfDue(exam, entry);
    const presence = seal?.presence ?? undefined;
    let submitted: Record<string, string> | undefined;
    if (needsComparison(timeline, arrivedAt, presence)) {
      // Checked already (answer-files/check.ts): valid JSON of an answer file for this exam.
      const file = JSON.parse(await readFile(tmpPath, 'utf8')) as AnswerFile;
      submitted = answerDigests(file.answers);
    }
    const timing = decideTiming({
      timeline,
      arrivedAt,
      claimedType,
      presence,
      submitted,
      draftAtDeadline: seal?.heldDraft ? seal.digests : undefined,
    });
    return { timing, seal };
  }

  /**
   * A submission changed after time-up: the draft held at the deadline is stored as an answer file
   * (a blob, so the sync carries it like the submitted one) and named by a time-up-answers-kept event.
   */
  async keptAnswersEvent(
    seal: TimeUpSeal,
    submissionId: string,
    submittedSha256: string,
    timing: TimingDecision,
  ): Promise<NewEvent> {
    const kept = await this.ctx.store.timeUpDraft(seal.id);
    if (!kept) throw new Error(`${seal.id} is not in the database`);
    const bytes = Buffer.from(
      serialiseAnswerFile({
        format: 'answers/v1',
        examId: kept.examId,
        studentId: kept.studentId,
        answers: kept.answers,
        flagged: kept.flagged,
      }),
      'utf8',
    );
    const sha256 = await this.ctx.store.blobs.put(bytes);
    return {
      kind: 'time-up-answers-kept',
      actor: { role: 'system' },
      studentId: kept.studentId,
      data: {
        submissionId,
        timeUpDraftId: seal.id,
        sha256,
        size: bytes.byteLength,
        submittedSha256,
        differingQuestions: timing.differingQuestions,
        unseenMs: timing.unseenMs,
      },
    };
  }
}

/**
 * The examinee's answers while the exam runs: autosaved drafts (merged question by question),
 * the app's answer-sheet replication on top of them, and files for file questions.
 */
import {
  answeredCount,
  answersFitExam,
  canonicalAnswerFile,
  examQuestions,
  type AnswerFile,
} from '../../../domain/answers.js';
import {
  answerSheetId,
  mergeAnswerSheets,
  questionVersion,
  type AnswerSheet,
  type SheetState,
} from '../../../domain/answer-sheet.js';
import { decideAnswerFiles, decideDraft, decideFileUpload } from '../../../domain/exam-day-rules.js';
import { refuse, type Result } from '../../../domain/errors.js';
import type { ExamDayContext, ExamineeSession, LazyBody } from './context.js';
import type { TimeUp } from './time-up.js';

export class Answers {
  constructor(
    private readonly ctx: ExamDayContext,
    private readonly timeUp: TimeUp,
  ) {}

  /**
   * Autosaves a draft. A draft no newer than the stored one (by counter) is `stale-draft`; a newer
   * one is merged with the stored one question by question (domain mergeAnswerSheets), so that an
   * older value of a question never overwrites a newer one. The stored draft is read only when
   * it holds a question newer than the incoming draft's (two writers, e.g. a device swap).
   */
  saveDraft(
    s: ExamineeSession,
    input: { counter: number; answers: AnswerFile['answers']; flagged: string[]; versions?: Record<string, number> },
  ): Promise<Result<{ counter: number; answered: number; total: number }>> {
    const { exam, entry } = s;
    return this.ctx.underExamineeLock(exam, entry, async () => {
      const decision = decideDraft(entry.state, this.ctx.timeline(exam, entry), this.ctx.now);
      if (!decision.ok) return decision;
      const stored = entry.draft;
      if (stored && input.counter <= stored.counter)
        return refuse('stale-draft', `stored counter is ${stored.counter}`);
      const ids = { format: 'answers/v1' as const, examId: exam.doc.examId, studentId: entry.doc.studentId };
      // What arrives is checked as it is, before any merge.
      const fit = answersFitExam(
        { ...ids, answers: input.answers, flagged: input.flagged },
        exam.doc,
        entry.doc.studentId,
      );
      if (!fit.ok) return fit;
      const questionIds = new Set(examQuestions(exam.doc).map((q) => q.id));
      const unknown = Object.keys(input.versions ?? {}).find((q) => !questionIds.has(q));
      if (unknown !== undefined)
        return refuse('invalid-answer-file', `versions: "${unknown}" is not a question of this exam`);
      const storedWinsSomewhere =
        stored !== undefined && Object.entries(stored.versions).some(([q, v]) => v > questionVersion(input, q));
      // Without a stored question newer than the incoming one, the incoming value wins everywhere.
      const storedSheet: SheetState = (storedWinsSomewhere ? await this.draft(s) : undefined) ?? {
        counter: stored?.counter ?? 0,
        answers: {},
        flagged: [],
        versions: stored?.versions ?? {},
      };
      const merged = mergeAnswerSheets(input, storedSheet);
      const file: AnswerFile = { ...ids, answers: merged.answers, flagged: merged.flagged };
      const owned = decideAnswerFiles(entry.state, file.answers);
      if (!owned.ok) return owned;
      const canonical = canonicalAnswerFile(file);
      const start = this.ctx.implicitStart(entry);
      if (start.length > 0) await this.ctx.store.record(exam.doc.examId, start).durable;
      // After the deadline, the draft held at it is kept before this save overwrites it.
      await this.timeUp.keepIfDue(exam, entry);
      await this.ctx.store.saveDraft(entry, {
        examId: exam.doc.examId,
        studentId: entry.doc.studentId,
        counter: input.counter,
        savedAt: this.ctx.now,
        answers: canonical.answers,
        flagged: canonical.flagged,
        versions: merged.versions,
      });
      const { answered, total } = answeredCount(exam.doc, canonical.answers);
      return { ok: true, counter: input.counter, answered, total };
    });
  }

  /**
   * The appliance side of the app's answer-sheet replication (RxDB's push handler). Each row is
   * the device's sheet and the master state it assumed; the sheet must be the caller's own (all
   * rows are checked before anything is saved). A sheet no newer than the stored one is a
   * conflict: the stored sheet goes back and the device's conflict handler decides.
   */
  async pushAnswerSheets(
    s: ExamineeSession,
    rows: readonly { newDocumentState: AnswerSheet }[],
  ): Promise<Result<{ conflicts: AnswerSheet[] }>> {
    const id = answerSheetId(s.exam.doc.examId, s.entry.doc.studentId);
    for (const row of rows) {
      if (row.newDocumentState.id !== id) return refuse('not-your-document', `this examinee's sheet is ${id}`);
      if (row.newDocumentState._deleted) return refuse('validation-failed', 'an answer sheet cannot be deleted');
    }
    const conflicts: AnswerSheet[] = [];
    for (const { newDocumentState: sheet } of rows) {
      const saved = await this.saveDraft(s, {
        counter: sheet.counter,
        answers: sheet.answers,
        flagged: sheet.flagged,
        ...(sheet.versions ? { versions: sheet.versions } : {}),
      });
      if (saved.ok) continue;
      if (saved.code !== 'stale-draft') return saved;
      const master = await this.answerSheet(s);
      if (master) conflicts.push(master);
    }
    return { ok: true, conflicts };
  }

  /** The stored answer sheet, as the app's replication sees it (RxDB's pull handler). */
  async answerSheet(s: ExamineeSession): Promise<AnswerSheet | undefined> {
    const draft = await this.draft(s);
    if (!draft) return undefined;
    return {
      id: answerSheetId(draft.examId, draft.studentId),
      counter: draft.counter,
      answers: draft.answers,
      flagged: draft.flagged,
      versions: draft.versions ?? {},
      _deleted: false,
    };
  }

  async draft(s: ExamineeSession) {
    return this.ctx.store.draft(s.exam.doc.examId, s.entry.doc.studentId);
  }

  /**
   * Takes a file for a file question, streamed and size-limited, durable before the answer. The
   * answer then names it by SHA-256; only files the examinee uploaded may be named.
   */
  uploadFile(
    s: ExamineeSession,
    input: {
      body: LazyBody;
      questionId: string;
      name: string;
      sha256: string;
      declaredSize: number | undefined;
    },
  ): Promise<Result<{ sha256: string; size: number; name: string; replay: boolean }>> {
    const { exam, entry } = s;
    const studentId = entry.doc.studentId;
    const question = examQuestions(exam.doc).find((q) => q.id === input.questionId);
    const timeline = () => this.ctx.timeline(exam, entry);
    const early = decideFileUpload(
      entry.state,
      timeline(),
      question,
      { name: input.name, sha256: input.sha256, size: input.declaredSize ?? 0 },
      this.ctx.now,
    );
    if (!early.ok) return Promise.resolve(early);
    const limit = Math.min(question?.type === 'file' ? question.maxBytes : 0, this.ctx.options.maxFileBytes);
    return this.ctx.underExamineeLock(exam, entry, async () => {
      const received = await this.ctx.receiveUpload(input.body(), limit, input.sha256);
      if (!received.ok) return received;
      const blob = received.blob;
      const decision = decideFileUpload(
        entry.state,
        timeline(),
        question,
        { name: input.name, sha256: blob.sha256, size: blob.size },
        this.ctx.now,
      );
      if (!decision.ok) {
        await this.ctx.store.blobs.discard(blob);
        return decision;
      }
      if (decision.action === 'replay') {
        // Acknowledged before: the stored file is checked, and stored again from these bytes if
        // it went missing or was damaged.
        await this.ctx.store.blobs.keep(blob);
        return { ok: true, sha256: blob.sha256, size: blob.size, name: input.name, replay: true };
      }
      await this.ctx.store.blobs.commit(blob);
      await this.ctx.store.record(exam.doc.examId, [
        ...this.ctx.implicitStart(entry),
        {
          kind: 'file-uploaded',
          actor: { role: 'examinee', studentId },
          studentId,
          data: { questionId: input.questionId, sha256: blob.sha256, size: blob.size, name: input.name },
        },
      ]).durable;
      return { ok: true, sha256: blob.sha256, size: blob.size, name: input.name, replay: false };
    });
  }
}

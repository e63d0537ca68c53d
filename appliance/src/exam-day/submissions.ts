/**
 * The final answer file: received streamed, checked (on a worker thread in the appliance),
 * timed against the deadline, made durable (blob, then journal) and only then acknowledged
 * with a signed receipt; and the examinee's accepted submission afterwards.
 */
import { gradeClosedQuestions, type AnswerFile } from '../../../domain/answers.js';
import { decideAnswerFiles, decideSubmission } from '../../../domain/exam-day-rules.js';
import { refuse, type Result } from '../../../domain/errors.js';
import { SCHEMA_VERSION } from '../../../domain/exam-format.js';
import { activeSubmission } from '../../../domain/examinee-state.js';
import { inThreadAnswerFileChecker, type AnswerFileChecker } from '../answer-files/checker.js';
import type { Receipt } from '../crypto/receipts.js';
import { submissionDocId, type SubmissionDoc } from '../store/hall-store.js';
import { iso, type ExamDayContext, type ExamineeSession, type LazyBody } from './context.js';
import type { TimeUp } from './time-up.js';

export class Submissions {
  private readonly answerFiles: AnswerFileChecker;

  constructor(
    private readonly ctx: ExamDayContext,
    private readonly timeUp: TimeUp,
  ) {
    this.answerFiles = ctx.options.answerFileChecker ?? inThreadAnswerFileChecker();
  }

  /**
   * Accepts the final answer file, streamed. Order of durability: blob fsynced and renamed and
   * its folder fsynced, then the event and submission document fsynced in the journal, then the
   * answer (with a signed receipt) goes out.
   */
  submit(
    s: ExamineeSession,
    input: {
      body: LazyBody;
      sha256: string;
      submissionType: 'manual' | 'automatic';
    },
  ): Promise<Result<{ receipt: Receipt; replay: boolean }>> {
    const { exam, entry } = s;
    const studentId = entry.doc.studentId;
    const examId = exam.doc.examId;
    // Cheap refusals before reading a byte.
    const early = decideSubmission(entry.state, this.ctx.timeline(exam, entry), input.sha256, this.ctx.now);
    if (!early.ok) return Promise.resolve(early);
    const limit = Math.min(exam.doc.settings.maxAnswerFileBytes, this.ctx.options.maxFileBytes);
    return this.ctx.underExamineeLock(exam, entry, async () => {
      const received = await this.ctx.receiveUpload(input.body(), limit, undefined);
      if (!received.ok) return received;
      // Hashed and checked on a worker thread in the appliance (answer-files/checker.ts):
      // hashing, reading and parsing the whole file is most of what a submission costs.
      const checked = await this.answerFiles
        .check({ path: received.blob.tmpPath, size: received.blob.size, exam: exam.doc, studentId })
        .catch(async (err: unknown) => {
          await this.ctx.store.blobs.discard(received.blob);
          throw err;
        });
      const blob = { ...received.blob, sha256: checked.sha256 };
      const keep = async <T extends Result<object>>(r: T): Promise<T> => {
        if (!r.ok) await this.ctx.store.blobs.discard(blob);
        return r;
      };
      if (blob.sha256 !== input.sha256) return keep(refuse('checksum-mismatch', `received ${blob.sha256}`));
      if (!checked.verdict.ok) return keep(checked.verdict);
      const { summary } = checked.verdict;
      const owned = decideAnswerFiles(entry.state, summary.fileAnswers);
      if (!owned.ok) return keep(owned);
      // Decide again under the lock: time has passed and another request may have submitted.
      const decision = decideSubmission(entry.state, this.ctx.timeline(exam, entry), blob.sha256, this.ctx.now);
      if (!decision.ok) return keep(decision);
      if (decision.action === 'replay') {
        // The same bytes again: the stored answer file is checked, and stored again from these
        // if it went missing or was damaged, before the receipt is handed out again.
        await this.ctx.store.blobs.keep(blob);
        const receipt = this.ctx.store.projection.receipts.get(decision.submissionId);
        if (!receipt) return refuse('already-submitted');
        return { ok: true, receipt, replay: true };
      }
      const { timing, seal } = await this.timeUp.submissionTiming(exam, entry, blob.tmpPath, input.submissionType);
      await this.ctx.store.blobs.commit(blob);
      const submissionId = submissionDocId(examId, studentId, this.ctx.store.applianceId, decision.n);
      const receivedAt = this.ctx.now;
      const keptEvent =
        timing.case === 'changed-after-time-up' && seal
          ? [await this.timeUp.keptAnswersEvent(seal, submissionId, blob.sha256, timing)]
          : [];
      const receipt = this.ctx.store.receiptSigner.sign({
        format: 'receipt/v2',
        applianceId: this.ctx.store.applianceId,
        hallId: this.ctx.store.hallId,
        examId,
        studentId,
        submissionId,
        n: decision.n,
        sha256: blob.sha256,
        size: blob.size,
        submissionType: timing.submissionType,
        receivedAt: iso(receivedAt),
        timing: timing.case,
      });
      const doc: SubmissionDoc = {
        _id: submissionId,
        type: 'submission',
        schemaVersion: SCHEMA_VERSION,
        examId,
        studentId,
        n: decision.n,
        applianceId: this.ctx.store.applianceId,
        sha256: blob.sha256,
        size: blob.size,
        submissionType: timing.submissionType,
        receivedAt,
        late: timing.late,
        timing: timing.case,
        ...(timing.compared ? { differingQuestions: timing.differingQuestions } : {}),
        receipt,
        score: {
          score: summary.score,
          maxScore: summary.maxScore,
          answered: summary.answered,
          total: summary.total,
        },
      };
      const { durable } = this.ctx.store.record(
        examId,
        [
          ...this.ctx.implicitStart(entry),
          {
            kind: 'submission-accepted',
            actor: { role: 'examinee', studentId },
            studentId,
            data: {
              submissionId,
              n: decision.n,
              sha256: blob.sha256,
              size: blob.size,
              submissionType: timing.submissionType,
              late: timing.late,
              timing: timing.case,
              ...(timing.compared ? { differingAnswers: timing.differingQuestions.length } : {}),
              ...(timing.compared && timing.unseenMs !== null ? { unseenMs: timing.unseenMs } : {}),
            },
          },
          ...keptEvent,
        ],
        [doc as unknown as SubmissionDoc & { [k: string]: unknown }],
      );
      await durable;
      // Only now may anyone see the receipt (GET /api/exam/submission answers from the projection).
      this.ctx.store.submissionAcknowledged(doc);
      return { ok: true, receipt, replay: false };
    });
  }

  /** The examinee's accepted submission with its receipt and closed-question score. */
  async currentSubmission(s: ExamineeSession) {
    const current = activeSubmission(s.entry.state);
    const receipt = current && this.ctx.store.projection.receipts.get(current.submissionId);
    // A submission whose journal write is still in flight has no receipt yet: not acknowledged.
    if (!current || !receipt) return undefined;
    return {
      submissionId: current.submissionId,
      sha256: current.sha256,
      size: current.size,
      at: iso(current.at),
      submissionType: current.submissionType,
      receipt,
    };
  }

  /** Scores closed questions of a stored answer file (for proctors; never sent to examinees). */
  async closedScore(examId: string, sha256: string) {
    const exam = this.ctx.store.projection.exams.get(examId);
    if (!exam) return undefined;
    const file = JSON.parse((await this.ctx.store.blobs.read(sha256)).toString('utf8')) as AnswerFile;
    return gradeClosedQuestions(exam.doc, file.answers);
  }
}

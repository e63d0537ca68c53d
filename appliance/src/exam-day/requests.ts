/**
 * What an examinee asks of or reports to the proctors while the exam runs: bathroom breaks,
 * integrity events from the device, and questions (rate limited, so that no client can flood
 * the hash-chained log).
 */
import { randomUUID } from 'node:crypto';
import { examQuestions } from '../../../domain/answers.js';
import { decideDraft } from '../../../domain/exam-day-rules.js';
import { refuse, type Result } from '../../../domain/errors.js';
import type { ExamLockReason, IntegrityEventType } from '../../../domain/events.js';
import { FailureLimiter } from '../rate-limit.js';
import type { ExamDayContext, ExamineeSession } from './context.js';

export class Requests {
  private readonly integrityLimiter: FailureLimiter;
  private readonly messageLimiter: FailureLimiter;

  constructor(private readonly ctx: ExamDayContext) {
    this.integrityLimiter = new FailureLimiter(ctx.store.clock, 30, 60_000);
    this.messageLimiter = new FailureLimiter(ctx.store.clock, 10, 60_000);
  }

  /** The examinee asks for a bathroom break; proctors approve, reject or answer later. */
  async requestBathroomBreak(s: ExamineeSession): Promise<Result<{ status: string }>> {
    const open = decideDraft(s.entry.state, this.ctx.timeline(s.exam, s.entry), this.ctx.now);
    if (!open.ok) return open;
    if (s.entry.state.bathroom.status === 'requested') return { ok: true, status: 'requested' };
    await this.ctx.examineeEvent(s, 'bathroom-break-requested', {});
    return { ok: true, status: 'requested' };
  }

  /** The examinee is back from an approved break. */
  async returnFromBathroomBreak(s: ExamineeSession): Promise<Result<{ status: string }>> {
    if (s.entry.state.bathroom.status !== 'approved') return refuse('no-bathroom-request');
    await this.ctx.examineeEvent(s, 'bathroom-break-returned', {});
    return { ok: true, status: 'returned' };
  }

  /**
   * An integrity event from the examinee's device (tab hidden, full screen left, paste...). At
   * most 30 a minute are kept per examinee, so a broken or hostile client cannot flood the log.
   */
  async reportIntegrity(
    s: ExamineeSession,
    input: { type: IntegrityEventType; detail?: string | undefined },
  ): Promise<Result<Record<never, never>>> {
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.integrityLimiter.blocked(key)) return refuse('too-many-events');
    this.integrityLimiter.fail(key);
    await this.ctx.examineeEvent(
      s,
      'integrity-event',
      input.detail === undefined ? { type: input.type } : { type: input.type, detail: input.detail },
    );
    return { ok: true };
  }

  /**
   * The device locked the exam (a reload, full screen left) and waits for a resume code: the
   * monitor shows "Locked" until a resume code is used. Shares the integrity events' rate limit;
   * a repeat while already locked for the same reason writes nothing.
   */
  async reportLock(s: ExamineeSession, reason: ExamLockReason): Promise<Result<Record<never, never>>> {
    if (s.entry.state.locked?.reason === reason) return { ok: true };
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.integrityLimiter.blocked(key)) return refuse('too-many-events');
    this.integrityLimiter.fail(key);
    await this.ctx.examineeEvent(s, 'exam-locked', { reason });
    return { ok: true };
  }

  /** A question from the examinee to the proctors (optionally about one exam question). */
  async askProctors(
    s: ExamineeSession,
    input: { text: string; questionId?: string | undefined },
  ): Promise<Result<{ messageId: string }>> {
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.messageLimiter.blocked(key)) return refuse('too-many-events');
    this.messageLimiter.fail(key);
    if (input.questionId !== undefined && !examQuestions(s.exam.doc).some((q) => q.id === input.questionId)) {
      return refuse('validation-failed', 'questionId is not a question of this exam');
    }
    const messageId = randomUUID();
    await this.ctx.examineeEvent(s, 'message-sent', {
      messageId,
      audience: 'proctors',
      text: input.text,
      ...(input.questionId === undefined ? {} : { questionId: input.questionId }),
    });
    return { ok: true, messageId };
  }
}

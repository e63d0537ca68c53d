/**
 * Signing in and proving who one is: student id + access code from a device (binding it, the
 * same device again, or a second device waiting for a proctor's approval of the re-login), the
 * approved device's token, Safe Exam Browser refusals, and the identity verification that
 * follows (a password handed out in the hall, or a camera photo a proctor reviews).
 */
import { accessCodeHash, constantTimeEqualHex } from '../../../domain/access-code.js';
import { decideSignIn } from '../../../domain/exam-day-rules.js';
import { refuse, type Refusal, type Result } from '../../../domain/errors.js';
import { normaliseAccessCode } from '../../../domain/exam-format.js';
import { verificationModeFor } from '../../../domain/exam-state.js';
import { examineeStatus } from '../../../domain/examinee-state.js';
import { networkAllowed } from '../../../domain/networks.js';
import { FailureLimiter } from '../rate-limit.js';
import type { ExamEntry } from '../store/projection.js';
import type { ExamDayContext, ExamineeSession, LazyBody } from './context.js';

const FIFTEEN_MINUTES = 15 * 60_000;
/** A verification photo from a phone or laptop camera fits in this. */
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

export interface SignInInput {
  studentId: string;
  accessCode: string;
  deviceId: string;
  examId?: string | undefined;
  clientVersion: string;
  /** The network address the request came from (the limits per address); `local` when absent. */
  address?: string;
  /** Refuses the exam's device when the exam requires Safe Exam Browser and this is not it. */
  sebCheck?: (exam: ExamEntry) => Refusal | undefined;
}

export class SignIn {
  /** Wrong verification passwords per examinee (access codes: the sign-in guard). */
  private readonly failures: FailureLimiter;
  /** Refusals told to the proctors as events: once per key in 5 minutes, so a retrying device cannot fill the log. */
  private readonly refusalsTold: FailureLimiter;

  constructor(private readonly ctx: ExamDayContext) {
    const clock = ctx.store.clock;
    this.failures = new FailureLimiter(clock, ctx.options.signInAttempts, FIFTEEN_MINUTES);
    this.refusalsTold = new FailureLimiter(clock, 1, 5 * 60_000);
  }

  /** Signs in with student id + access code from a device. */
  async signIn(
    input: SignInInput,
  ): Promise<Result<{ token: string; examId: string; status: string; waitingForApproval: boolean }>> {
    const { store } = this.ctx;
    const exams = store.projection
      .examsOf(input.studentId)
      .filter((exam) => input.examId === undefined || exam.doc.examId === input.examId);
    // The device this examinee's session is bound to is theirs: it meets no limit but its own.
    const knownDevice = exams.some((exam) => exam.examinees.get(input.studentId)?.state.deviceId === input.deviceId)
      ? input.deviceId
      : undefined;
    const checked = await this.ctx.options.signInGuard.attempt(
      { account: input.studentId, address: input.address ?? 'local', knownDevice },
      () =>
        Promise.resolve(
          exams.filter((exam) => {
            const doc = exam.examinees.get(input.studentId)?.doc;
            return (
              doc !== undefined &&
              constantTimeEqualHex(
                accessCodeHash(exam.doc.examId, input.studentId, input.accessCode),
                doc.accessCodeHash,
              )
            );
          }),
        ),
      (matching) => matching.length > 0,
    );
    if (!checked.ok) return checked;
    const candidates = checked.value;
    if (candidates.length === 0) return refuse('invalid-credentials');
    if (candidates.length > 1) return refuse('exam-choice-required', candidates.map((c) => c.doc.examId).join(', '));
    const exam = candidates[0]!;
    const version = this.ctx.checkClientVersion(exam, input.clientVersion);
    if (!version.ok) return version;
    if (!networkAllowed(exam.wide.allowedNetworks, input.address)) {
      this.recordNetworkRefused(exam.doc.examId, input.studentId, input.address ?? 'unknown');
      return refuse('network-not-allowed', `sign-in from ${input.address ?? 'an unknown address'}`);
    }
    const seb = input.sebCheck?.(exam);
    if (seb) {
      this.recordSebRefused(exam.doc.examId, input.studentId, seb.detail ?? seb.code, '/api/session');
      return seb;
    }
    const entry = store.projection.examinee(exam.doc.examId, input.studentId)!;
    const decision = decideSignIn(entry.state, this.ctx.timeline(exam, entry), input.deviceId, this.ctx.now);
    if (!decision.ok) return decision;
    const examId = exam.doc.examId;
    const actor = { role: 'examinee' as const, studentId: input.studentId };
    let pending = false;
    if (decision.action === 'bind' || decision.action === 'same-device') {
      const sessionNo = decision.action === 'bind' ? entry.state.sessionNo + 1 : entry.state.sessionNo;
      await store.record(examId, [
        {
          kind: 'examinee-signed-in',
          actor,
          studentId: input.studentId,
          data: { deviceId: input.deviceId, sessionNo },
        },
      ]).durable;
    } else {
      pending = true;
      if (decision.action === 'relogin-request') {
        await store.record(examId, [
          { kind: 'relogin-requested', actor, studentId: input.studentId, data: { deviceId: input.deviceId } },
        ]).durable;
      }
    }
    const token = this.ctx.tokens.issue({
      e: examId,
      s: input.studentId,
      d: input.deviceId,
      n: entry.state.sessionNo,
      p: pending ? 1 : 0,
      i: Math.floor(this.ctx.now / 1000),
    });
    return { ok: true, token, examId, status: examineeStatus(entry.state), waitingForApproval: pending };
  }

  /**
   * A second device's pending token once a proctor approved that device: a real session token
   * for it, so that it continues without a second sign-in. Undefined for any other token (not
   * pending, not approved, or approved and then moved on again).
   */
  approvedToken(token: string): string | undefined {
    const { tokens, store } = this.ctx;
    const claims = tokens.read(token);
    if (!claims || claims.p !== 1) return undefined;
    const entry = store.projection.examinee(claims.e, claims.s);
    if (!entry || entry.state.deviceId !== claims.d || entry.state.sessionNo !== claims.n + 1) return undefined;
    return tokens.issue({
      e: claims.e,
      s: claims.s,
      d: claims.d,
      n: entry.state.sessionNo,
      p: 0,
      i: Math.floor(this.ctx.now / 1000),
    });
  }

  /**
   * Records that Safe Exam Browser checks refused an examinee's request, at most once per
   * examinee and reason in 5 minutes (a normal browser polling would otherwise flood the log).
   */
  /** Tells the proctors (the row and the examinee's events), once per examinee and address in 5 minutes. */
  private recordNetworkRefused(examId: string, studentId: string, address: string): void {
    const key = `${examId}|${studentId}|network|${address}`;
    if (this.refusalsTold.blocked(key)) return;
    this.refusalsTold.fail(key);
    void this.ctx.store
      .record(examId, [
        { kind: 'network-refused', actor: { role: 'examinee', studentId }, studentId, data: { address } },
      ])
      .durable.catch(() => undefined);
  }

  recordSebRefused(examId: string, studentId: string, reason: string, path: string): void {
    const key = `${examId}|${studentId}|${reason}`;
    if (this.refusalsTold.blocked(key)) return;
    this.refusalsTold.fail(key);
    void this.ctx.store
      .record(examId, [
        { kind: 'seb-refused', actor: { role: 'examinee', studentId }, studentId, data: { reason, path } },
      ])
      .durable.catch(() => undefined);
  }

  /** Password verification: the examinee types a password the invigilator handed out. */
  async verifyWithPassword(s: ExamineeSession, password: string): Promise<Result<{ verification: string }>> {
    const mode = verificationModeFor(s.exam, s.entry.state.verificationMode);
    if (mode !== 'password') return refuse('verification-not-needed');
    if (s.entry.state.verification === 'verified') return { ok: true, verification: 'verified' };
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}`;
    if (this.failures.blocked(`verification:${key}`)) return refuse('too-many-attempts');
    const typed = normaliseAccessCode(password);
    const known = this.ctx.store.secrets.examSecret(s.exam.doc.examId)?.verificationPasswords ?? [];
    const correct = known.some((p) => p === typed);
    if (!correct) this.failures.fail(`verification:${key}`);
    await this.ctx.examineeEvent(s, 'verification-password-entered', { correct });
    return correct ? { ok: true, verification: 'verified' } : refuse('wrong-verification-password');
  }

  /** Camera verification: a photo of the face or the ID card, streamed; a proctor reviews it. */
  async submitVerificationPhoto(
    s: ExamineeSession,
    input: { body: LazyBody; kind: 'face' | 'id-card'; sha256: string },
  ): Promise<Result<{ sha256: string; size: number }>> {
    const mode = verificationModeFor(s.exam, s.entry.state.verificationMode);
    if (mode !== 'camera') return refuse('verification-not-needed');
    if (s.entry.state.verification === 'verified' || s.entry.state.verification === 'rejected')
      return refuse('verification-not-needed', `already ${s.entry.state.verification}`);
    if (s.entry.state.verificationPhotos.length >= 20) return refuse('too-many-events');
    const limit = Math.min(MAX_PHOTO_BYTES, this.ctx.options.maxFileBytes);
    return this.ctx.underExamineeLock(s.exam, s.entry, async () => {
      const received = await this.ctx.receiveUpload(input.body(), limit, input.sha256);
      if (!received.ok) return received;
      await this.ctx.store.blobs.commit(received.blob);
      await this.ctx.examineeEvent(s, 'verification-photo-submitted', {
        sha256: received.blob.sha256,
        size: received.blob.size,
        kind: input.kind,
      });
      return { ok: true, sha256: received.blob.sha256, size: received.blob.size };
    });
  }
}

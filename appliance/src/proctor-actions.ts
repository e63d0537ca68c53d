/**
 * What proctors do in the monitor: each action checks its rule, records one event (the audit
 * trail) and returns the new row. Who may take which action is domain/proctor-roles.ts (the
 * HTTP layer checks it before calling in here).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { refuse, type Result } from '../../domain/errors.js';
import type { EventData, IntegrityReviewStatus, NewEvent } from '../../domain/events.js';
import type { HardwareCheck, ProctoringType, VerificationMode } from '../../domain/exam-options.js';
import { examProctoring } from '../../domain/exam-state.js';
import { CODE_ALPHABET, type ExamineeDoc } from '../../domain/exam-format.js';
import { activeSubmission } from '../../domain/examinee-state.js';
import type { ParticipantRow } from '../../domain/monitor.js';
import type { TimeUpChoice } from '../../domain/time-up.js';
import type { ExamPackages } from './exam-packages.js';
import type { Monitor } from './monitor.js';
import type { Proctor } from './proctors/accounts.js';
import type { HallStore } from './store/hall-store.js';
import { effectiveMaxDownloads, type ExamEntry, type ExamineeEntry } from './store/projection.js';

type Entry = ExamineeEntry & { doc: ExamineeDoc };

export class ProctorActions {
  /** When each proctor's preview of each exam was last recorded (one event per 10 minutes). */
  private readonly previewsTold = new Map<string, number>();

  constructor(
    private readonly store: HallStore,
    private readonly monitor: Monitor,
    private readonly packages: ExamPackages,
  ) {}

  /**
   * A proctor reads the paper (Exam preview): an event, at most one per proctor and exam in 10
   * minutes, so that tab switches and reloads do not fill the log.
   */
  async recordPreview(exam: ExamEntry, proctor: Proctor, beforeStart: boolean): Promise<void> {
    const key = `${exam.doc.examId}|${proctor.username}|${beforeStart}`;
    const now = this.store.clock.now();
    const last = this.previewsTold.get(key);
    if (last !== undefined && now - last < 10 * 60_000) return;
    this.previewsTold.set(key, now);
    const actor = { role: 'proctor' as const, username: proctor.username };
    await this.store.record(exam.doc.examId, [{ kind: 'exam-preview-viewed', actor, data: { beforeStart } }]).durable;
  }

  /** The exam password, for a chief proctor to read out when the key cannot reach the examinees. */
  async examPassword(exam: ExamEntry, proctor: Proctor): Promise<string> {
    const secret = await this.packages.secret(exam.doc.examId);
    const actor = { role: 'proctor' as const, username: proctor.username };
    await this.store.record(exam.doc.examId, [{ kind: 'exam-password-viewed', actor, data: {} }]).durable;
    return secret.password;
  }

  private async recordFor<K extends keyof EventData>(
    exam: ExamEntry,
    entry: Entry,
    proctor: Proctor,
    kind: K,
    data: EventData[K],
  ): Promise<Result<{ row: ParticipantRow }>> {
    const event = {
      kind,
      actor: { role: 'proctor', username: proctor.username },
      studentId: entry.doc.studentId,
      data,
    } as NewEvent;
    await this.store.record(exam.doc.examId, [event]).durable;
    return { ok: true, row: this.monitor.row(exam, entry) };
  }

  setMaxDownloads(
    exam: ExamEntry,
    entry: Entry,
    proctor: Proctor,
    input: { set?: number | undefined; change?: number | undefined },
  ) {
    const current = effectiveMaxDownloads(entry);
    const next = input.set ?? current + (input.change ?? 0);
    if (next < 0 || next > 100)
      return Promise.resolve(refuse('validation-failed', 'max downloads must stay between 0 and 100'));
    return this.recordFor(exam, entry, proctor, 'max-downloads-set', { maxDownloads: next });
  }

  /** Shows the contact details; the look itself is recorded. */
  async revealContact(exam: ExamEntry, entry: Entry, proctor: Proctor) {
    await this.recordFor(exam, entry, proctor, 'contact-revealed', {});
    return { email: entry.doc.email ?? null, phone: entry.doc.phone ?? null };
  }

  setLateLogin(exam: ExamEntry, entry: Entry, proctor: Proctor, minutes: number) {
    return this.recordFor(exam, entry, proctor, 'personal-late-login-set', { minutes });
  }

  setExtension(exam: ExamEntry, entry: Entry, proctor: Proctor, minutes: number) {
    return this.recordFor(exam, entry, proctor, 'personal-extension-set', { minutes });
  }

  setAccommodation(exam: ExamEntry, entry: Entry, proctor: Proctor, percent: number) {
    return this.recordFor(exam, entry, proctor, 'accommodation-set', { percent });
  }

  setVerificationMode(exam: ExamEntry, entry: Entry, proctor: Proctor, mode: VerificationMode) {
    return this.recordFor(exam, entry, proctor, 'verification-mode-set', { mode });
  }

  /** The examinee's own proctoring type (e.g. screen only for one whose camera is broken). */
  setProctoring(exam: ExamEntry, entry: Entry, proctor: Proctor, type: ProctoringType) {
    return this.recordFor(exam, entry, proctor, 'personal-proctoring-set', { type });
  }

  decideVerification(exam: ExamEntry, entry: Entry, proctor: Proctor, decision: 'verified' | 'rejected' | 'retake') {
    return this.recordFor(exam, entry, proctor, 'verification-decided', { decision });
  }

  decideBathroom(exam: ExamEntry, entry: Entry, proctor: Proctor, decision: 'approved' | 'rejected' | 'later') {
    const status = entry.state.bathroom.status;
    if (status !== 'requested' && status !== 'later') return Promise.resolve(refuse('no-bathroom-request'));
    return this.recordFor(exam, entry, proctor, 'bathroom-break-decided', { decision });
  }

  setHardwareChecks(exam: ExamEntry, entry: Entry, proctor: Proctor, disabled: HardwareCheck[]) {
    return this.recordFor(exam, entry, proctor, 'personal-hardware-checks-set', {
      disabled: [...new Set(disabled)].sort(),
    });
  }

  decideRelogin(exam: ExamEntry, entry: Entry, proctor: Proctor, decision: 'approve' | 'reject') {
    const deviceId = entry.state.pendingDeviceId;
    if (deviceId === undefined) return Promise.resolve(refuse('no-relogin-request'));
    return decision === 'approve'
      ? this.recordFor(exam, entry, proctor, 'relogin-approved', { deviceId, sessionNo: entry.state.sessionNo + 1 })
      : this.recordFor(exam, entry, proctor, 'relogin-rejected', { deviceId });
  }

  removeSubmission(exam: ExamEntry, entry: Entry, proctor: Proctor, reason: string) {
    const current = activeSubmission(entry.state);
    if (!current) return Promise.resolve(refuse('examinee-has-not-submitted'));
    return this.recordFor(exam, entry, proctor, 'submission-removed', { submissionId: current.submissionId, reason });
  }

  /**
   * A chief proctor decides which version of a submission changed after time-up counts: the
   * submitted file or the answers the appliance held at the deadline. Once per submission.
   */
  decideTimeUp(
    exam: ExamEntry,
    entry: Entry,
    proctor: Proctor,
    input: { submissionId: string; choice: TimeUpChoice; note?: string | undefined },
  ) {
    const submission = entry.state.submissions.find((s) => s.submissionId === input.submissionId);
    if (!submission) return Promise.resolve(refuse('submission-not-found', input.submissionId));
    if (submission.removed) return Promise.resolve(refuse('submission-not-found', `${input.submissionId} was removed`));
    if (submission.differingAnswers === undefined)
      return Promise.resolve(refuse('not-compared-at-time-up', `its case is ${submission.timing}`));
    if (submission.timing !== 'changed-after-time-up' || !submission.timeUp)
      return Promise.resolve(refuse('not-changed-after-time-up', `its case is ${submission.timing}`));
    if (submission.timeUp.decision)
      return Promise.resolve(
        refuse(
          'time-up-already-decided',
          `${submission.timeUp.decision.by} chose ${submission.timeUp.decision.choice}`,
        ),
      );
    return this.recordFor(exam, entry, proctor, 'time-up-decided', {
      submissionId: input.submissionId,
      choice: input.choice,
      ...(input.note === undefined ? {} : { note: input.note }),
    });
  }

  setIntegrityReview(
    exam: ExamEntry,
    entry: Entry,
    proctor: Proctor,
    status: IntegrityReviewStatus,
    note: string | undefined,
  ) {
    return this.recordFor(
      exam,
      entry,
      proctor,
      'integrity-review-set',
      note === undefined ? { status } : { status, note },
    );
  }

  /** Exam info tab: changes for everyone. */
  async setExamSettings(
    exam: ExamEntry,
    proctor: Proctor,
    input: {
      lateLoginMinutes?: number | undefined;
      extraMinutes?: number | undefined;
      disabledHardwareChecks?: HardwareCheck[] | undefined;
      allowedNetworks?: string[] | undefined;
      verificationMode?: VerificationMode | undefined;
      proctoringType?: ProctoringType | undefined;
      snapshotIntervalSeconds?: number | undefined;
    },
  ) {
    const actor = { role: 'proctor' as const, username: proctor.username };
    const events: NewEvent[] = [];
    if (input.lateLoginMinutes !== undefined)
      events.push({ kind: 'late-login-limit-set', actor, data: { minutes: input.lateLoginMinutes } });
    if (input.extraMinutes !== undefined)
      events.push({ kind: 'exam-extension-set', actor, data: { minutes: input.extraMinutes } });
    if (input.disabledHardwareChecks !== undefined) {
      events.push({
        kind: 'hardware-checks-set',
        actor,
        data: { disabled: [...new Set(input.disabledHardwareChecks)].sort() },
      });
    }
    if (input.allowedNetworks !== undefined) {
      // As typed, without duplicates: the exam info shows them back the way the proctor wrote them.
      const ranges = [...new Set(input.allowedNetworks.map((r) => r.trim()))];
      events.push({ kind: 'allowed-networks-set', actor, data: { ranges } });
    }
    if (input.verificationMode !== undefined)
      events.push({ kind: 'verification-default-set', actor, data: { mode: input.verificationMode } });
    if (input.proctoringType !== undefined || input.snapshotIntervalSeconds !== undefined) {
      const now = examProctoring(exam);
      const type = input.proctoringType ?? now.type;
      const intervalSeconds = input.snapshotIntervalSeconds ?? now.intervalSeconds;
      events.push({ kind: 'proctoring-set', actor, data: { type, intervalSeconds } });
    }
    if (events.length === 0) return refuse('validation-failed', 'nothing to change');
    await this.store.record(exam.doc.examId, events).durable;
    return { ok: true as const, info: this.monitor.examInfo(exam) };
  }

  /**
   * Generates passwords for password verification (Exam info tab): shown once to the proctor,
   * kept locally so the appliance can check what examinees type.
   */
  async generateVerificationPasswords(exam: ExamEntry, proctor: Proctor, count: number) {
    const passwords = Array.from({ length: count }, () =>
      [...randomBytes(8)].map((b) => CODE_ALPHABET[b & 31]).join(''),
    );
    await this.packages.secret(exam.doc.examId); // the exam's secret record holds them
    await this.store.secrets.addVerificationPasswords(exam.doc.examId, passwords);
    await this.store.record(exam.doc.examId, [
      {
        kind: 'verification-passwords-generated',
        actor: { role: 'proctor', username: proctor.username },
        data: { count },
      },
    ]).durable;
    return passwords;
  }

  /** An announcement to all, a message about a question, or a private message to one examinee. */
  async sendMessage(
    exam: ExamEntry,
    proctor: Proctor,
    input: {
      audience: 'all' | 'examinee' | 'staff';
      studentId?: string | undefined;
      questionId?: string | undefined;
      text: string;
    },
  ) {
    const messageId = randomUUID();
    const data: EventData['message-sent'] = {
      messageId,
      audience: input.audience,
      text: input.text,
      ...(input.questionId === undefined ? {} : { questionId: input.questionId }),
    };
    await this.store.record(exam.doc.examId, [
      {
        kind: 'message-sent',
        actor: { role: 'proctor', username: proctor.username },
        ...(input.studentId === undefined ? {} : { studentId: input.studentId }),
        data,
      },
    ]).durable;
    return messageId;
  }
}

/**
 * What the examinee's lobby needs: the exam's information and timer, the encrypted package
 * (each download counted durably against the limit), and the package key released at the
 * official start (the first release starts the exam).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decideDownload, decideStart } from '../../../domain/exam-day-rules.js';
import { timeLeftMs } from '../../../domain/exam-clock.js';
import type { Result } from '../../../domain/errors.js';
import { activeSubmission, examineeStatus } from '../../../domain/examinee-state.js';
import { verificationModeFor } from '../../../domain/exam-state.js';
import type { ExamPackage } from '../../../domain/exam-package.js';
import type { ExamPackages } from '../exam-packages.js';
import { effectiveAccommodation, effectiveMaxDownloads } from '../store/projection.js';
import { iso, type ExamDayContext, type ExamineeSession } from './context.js';

/** How early a request for the key is held until the official start rather than refused. */
export const START_HOLD_MS = 5_000;

export class Lobby {
  constructor(
    private readonly ctx: ExamDayContext,
    private readonly packages: ExamPackages,
  ) {}

  /** What the examinee's lobby and timer need. */
  examInfo(s: ExamineeSession) {
    const { exam, entry } = s;
    const t = this.ctx.timeline(exam, entry);
    const now = this.ctx.now;
    const submission = activeSubmission(entry.state);
    return {
      exam: {
        examId: exam.doc.examId,
        title: exam.doc.title,
        assessmentType: exam.doc.assessmentType,
        version: exam.doc.version,
        durationMinutes: exam.doc.durationMinutes,
        minimumClientVersion: exam.doc.minimumClientVersion,
        verificationMode: verificationModeFor(exam, entry.state.verificationMode),
        settings: {
          lockOnReload: exam.doc.settings.lockOnReload,
          requireFullscreen: exam.doc.settings.requireFullscreen,
        },
      },
      examinee: {
        studentId: entry.doc.studentId,
        name: entry.doc.name,
        seat: entry.doc.seat ?? null,
        accommodationPercent: effectiveAccommodation(entry),
      },
      status: examineeStatus(entry.state),
      schedule: {
        officialStart: iso(t.officialStart),
        deadline: iso(t.deadline),
        lateLoginDeadline: iso(t.lateLoginDeadline),
        downloadWindow: { opens: iso(t.downloadOpens), closes: iso(t.downloadCloses) },
        uploadDeadline: t.uploadDeadline === undefined ? null : iso(t.uploadDeadline),
        submissionCutoff: iso(t.submissionCutoff),
        allowedMinutes: t.allowedMs / 60_000,
      },
      countdown: { serverNow: now, msUntilStart: Math.max(0, t.officialStart - now), msLeft: timeLeftMs(t, now) },
      downloads: {
        used: entry.state.downloads.length,
        max: effectiveMaxDownloads(entry),
        left: Math.max(0, effectiveMaxDownloads(entry) - entry.state.downloads.length),
        first: entry.state.downloads[0] === undefined ? null : iso(entry.state.downloads[0]),
      },
      startedAt: entry.state.startedAt === undefined ? null : iso(entry.state.startedAt),
      submission: submission
        ? {
            submissionId: submission.submissionId,
            sha256: submission.sha256,
            at: iso(submission.at),
            submissionType: submission.submissionType,
          }
        : null,
    };
  }

  /** Downloads the encrypted package; counts the download durably before answering. */
  async download(
    s: ExamineeSession,
  ): Promise<Result<{ pkg: ExamPackage; bytes: Buffer; downloadNo: number; downloadsLeft: number }>> {
    const { exam, entry } = s;
    // Build (or fetch) the package first: it may await, and the limit check below must not.
    const { pkg, bytes } = await this.packages.packageFor(exam.doc);
    const decision = decideDownload(
      entry.state,
      this.ctx.timeline(exam, entry),
      effectiveMaxDownloads(entry),
      this.ctx.now,
    );
    if (!decision.ok) return decision;
    // Synchronous from the check to the record: the projection counts this download at once.
    const { durable } = this.ctx.store.record(exam.doc.examId, [
      {
        kind: 'package-downloaded',
        actor: { role: 'examinee', studentId: entry.doc.studentId },
        studentId: entry.doc.studentId,
        data: { downloadNo: decision.downloadNo, packageVersion: exam.doc.version },
      },
    ]);
    await durable;
    return {
      ok: true,
      pkg,
      bytes,
      downloadNo: decision.downloadNo,
      downloadsLeft: Math.max(0, effectiveMaxDownloads(entry) - decision.downloadNo),
    };
  }

  /**
   * Releases the package key at the official start; the first release starts the exam. A device
   * that asks up to START_HOLD_MS early (its estimate of the appliance's clock is a round trip
   * off, or its timer fired a little soon) is answered at the start instead of refused: it needs
   * no retry, and its browser logs no failed request.
   */
  async releaseKey(s: ExamineeSession): Promise<Result<{ key: string; startedAt: string; deadline: string }>> {
    const { exam, entry } = s;
    const secret = await this.packages.secret(exam.doc.examId);
    let decision = this.decideStart(s);
    const early = this.ctx.timeline(exam, entry).officialStart - this.ctx.now;
    if (!decision.ok && decision.code === 'exam-not-started' && early <= START_HOLD_MS) {
      await sleep(early + 1);
      decision = this.decideStart(s);
    }
    if (!decision.ok) return decision;
    const timeline = this.ctx.timeline(exam, entry);
    if (decision.firstStart) {
      await this.ctx.store.record(exam.doc.examId, [
        {
          kind: 'exam-started',
          actor: { role: 'examinee', studentId: entry.doc.studentId },
          studentId: entry.doc.studentId,
          data: { via: 'key-released' },
        },
      ]).durable;
    }
    return {
      ok: true,
      key: secret.key,
      startedAt: iso(entry.state.startedAt ?? this.ctx.now),
      deadline: iso(timeline.deadline),
    };
  }

  private decideStart({ exam, entry }: ExamineeSession) {
    return decideStart(
      entry.state,
      this.ctx.timeline(exam, entry),
      this.ctx.now,
      verificationModeFor(exam, entry.state.verificationMode) !== 'manual',
      this.ctx.options.clockTrusted?.() ?? true,
    );
  }
}

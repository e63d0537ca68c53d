/**
 * Proctoring snapshots from the examinee's device (the exam's proctoring type, or the examinee's
 * own): small JPEGs of the camera and of the screen at the exam's interval, stored
 * content-addressed like the verification photos, each an event (so the integrity report shows
 * them in time order and the sync pushes the image with the results). A device that cannot take
 * them says so, and the proctors see it on the row.
 *
 * Limits, so that no client can fill the disk or the log: only while the examinee writes (as a
 * draft), only the sources their type asks for, at most 30 a minute per source (a device back
 * from a Wi-Fi drop sends the few it kept at once), and no more per source than the exam's time
 * holds at the interval, twice over, plus 30.
 */
import { decideDraft } from '../../../domain/exam-day-rules.js';
import { refuse, type Result } from '../../../domain/errors.js';
import { SNAPSHOT_MAX_BYTES, type SnapshotProblem, type SnapshotSource } from '../../../domain/exam-options.js';
import { proctoringFor } from '../../../domain/exam-state.js';
import { FailureLimiter } from '../rate-limit.js';
import type { ExamDayContext, ExamineeSession, LazyBody } from './context.js';

/** Snapshots per source and minute, a short backlog included. */
const PER_MINUTE = 30;

export class Snapshots {
  private readonly limiter: FailureLimiter;

  constructor(private readonly ctx: ExamDayContext) {
    this.limiter = new FailureLimiter(ctx.store.clock, PER_MINUTE, 60_000);
  }

  /** The proctoring that applies to this examinee, as their device needs it. */
  proctoring(s: ExamineeSession) {
    const p = proctoringFor(s.exam, s.entry.state.proctoringType);
    const settings = s.exam.doc.settings.proctoring;
    return {
      type: p.type,
      sources: p.sources,
      intervalSeconds: p.intervalSeconds,
      consentText: settings.consentText ?? null,
      cameraRequired: settings.cameraRequired,
    };
  }

  private refuseUnlessTaken(s: ExamineeSession, source: SnapshotSource): Result<Record<never, never>> {
    const p = proctoringFor(s.exam, s.entry.state.proctoringType);
    if (!p.sources.includes(source))
      return refuse('snapshots-not-taken', `no ${source} snapshots: the proctoring type is ${p.type}`);
    return decideDraft(s.entry.state, this.ctx.timeline(s.exam, s.entry), this.ctx.now);
  }

  /** One snapshot, streamed; its SHA-256 is checked against the announced one. */
  async take(
    s: ExamineeSession,
    input: { body: LazyBody; source: SnapshotSource; sha256: string },
  ): Promise<Result<{ sha256: string; size: number }>> {
    const allowed = this.refuseUnlessTaken(s, input.source);
    if (!allowed.ok) return allowed;
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}|${input.source}`;
    const p = proctoringFor(s.exam, s.entry.state.proctoringType);
    const ceiling = Math.ceil((this.ctx.timeline(s.exam, s.entry).allowedMs / 1000 / p.intervalSeconds) * 2) + 30;
    if (this.limiter.blocked(key) || s.entry.state.snapshots[input.source] >= ceiling) return refuse('too-many-events');
    this.limiter.fail(key);
    const limit = Math.min(SNAPSHOT_MAX_BYTES, this.ctx.options.maxFileBytes);
    return this.ctx.underExamineeLock(s.exam, s.entry, async () => {
      const received = await this.ctx.receiveUpload(input.body(), limit, input.sha256);
      if (!received.ok) return received;
      const head = await this.ctx.store.blobs.head(received.blob, 3);
      if (head[0] !== 0xff || head[1] !== 0xd8 || head[2] !== 0xff) {
        await this.ctx.store.blobs.discard(received.blob);
        return refuse('unsupported-media-type', 'the snapshot is not a JPEG image');
      }
      // The same picture twice (a retry) finds the stored one checked, and replaced if it went bad.
      await this.ctx.store.blobs.keep(received.blob);
      const { sha256, size } = received.blob;
      await this.ctx.examineeEvent(s, 'snapshot-taken', { source: input.source, sha256, size });
      return { ok: true, sha256, size };
    });
  }

  /**
   * The device cannot take this source's snapshots (camera refused or absent, screen sharing
   * refused or stopped): one event per change, so a device repeating it writes nothing more.
   */
  async reportProblem(
    s: ExamineeSession,
    input: { source: SnapshotSource; problem: SnapshotProblem },
  ): Promise<Result<Record<never, never>>> {
    const allowed = this.refuseUnlessTaken(s, input.source);
    if (!allowed.ok) return allowed;
    if (s.entry.state.snapshotProblems[input.source] === input.problem) return { ok: true };
    const key = `${s.exam.doc.examId}|${s.entry.doc.studentId}|problem`;
    if (this.limiter.blocked(key)) return refuse('too-many-events');
    this.limiter.fail(key);
    await this.ctx.examineeEvent(s, 'snapshot-refused', input);
    return { ok: true };
  }
}

/**
 * What an exam's proctoring snapshots take on disk: the estimate for the whole exam (every
 * examinee at their own type for their own time), what is stored, and what the disk has free.
 * For the Exam info tab (domain/monitor.ts ExamInfo) and the doctor (via /api/health).
 */
import { snapshotDiskEstimate, type ProctoringType } from './exam-options.js';

/** What an exam's snapshots take on disk, for the Exam info tab and the doctor. */
export interface SnapshotCost {
  /** The whole exam: every examinee at their own type, for their whole time, at the interval. */
  estimateBytes: number;
  /** Snapshots already on the appliance, and what they take. */
  taken: number;
  takenBytes: number;
  /** What the data disk has free (null: not known yet). */
  diskFreeBytes: number | null;
}

/**
 * The disk an exam's snapshots take: each examinee at their own proctoring type, for the time
 * they write (the exam's duration with their extensions and accommodation).
 */
export function snapshotCost(
  rows: readonly { proctoringType: ProctoringType; deadline: string; snapshots: number }[],
  exam: { scheduledStart: string; durationMinutes: number; intervalSeconds: number },
  state: { takenBytes: number; diskFreeBytes: number | null },
): SnapshotCost {
  const start = Date.parse(exam.scheduledStart);
  let estimateBytes = 0;
  let taken = 0;
  for (const r of rows) {
    const minutes = Math.max(exam.durationMinutes, (Date.parse(r.deadline) - start) / 60_000);
    estimateBytes += snapshotDiskEstimate({
      type: r.proctoringType,
      intervalSeconds: exam.intervalSeconds,
      examinees: 1,
      minutes,
    }).bytes;
    taken += r.snapshots;
  }
  return { estimateBytes, taken, takenBytes: state.takenBytes, diskFreeBytes: state.diskFreeBytes };
}

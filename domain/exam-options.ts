/**
 * Lists an exam's settings choose from, shared by the exam format (exam-format.ts), the events
 * (events.ts), the proctor API and the dashboard. No zod here: the client imports it.
 */

/** How an examinee's identity is verified at sign-in (the exam's default, or per examinee). */
export const VERIFICATION_MODES = ['manual', 'password', 'camera'] as const;
export type VerificationMode = (typeof VERIFICATION_MODES)[number];
/**
 * The hardware checks an exam may ask the client to perform before the start (the exam file's
 * `settings.hardwareChecks`), and which proctors may disable for the exam or for one examinee.
 */
export const HARDWARE_CHECKS = ['multiple-screens', 'microphone', 'camera', 'fullscreen'] as const;
export type HardwareCheck = (typeof HARDWARE_CHECKS)[number];

/**
 * Proctoring snapshots (TomaSafe's camera, screen and second-camera recording, adapted to a box
 * on a LAN): small still pictures at an interval rather than video, per exam and per examinee.
 */
export const PROCTORING_TYPES = ['none', 'camera', 'screen', 'camera-and-screen'] as const;
export type ProctoringType = (typeof PROCTORING_TYPES)[number];
/** Where a snapshot comes from. */
export const SNAPSHOT_SOURCES = ['camera', 'screen'] as const;
export type SnapshotSource = (typeof SNAPSHOT_SOURCES)[number];
/** Why a device takes no snapshots of a source: the examinee refused, there is no such device, sharing was stopped. */
export const SNAPSHOT_PROBLEMS = ['denied', 'unavailable', 'stopped'] as const;
export type SnapshotProblem = (typeof SNAPSHOT_PROBLEMS)[number];

/** The sources a proctoring type takes snapshots of. */
export function snapshotSources(type: ProctoringType): SnapshotSource[] {
  if (type === 'camera-and-screen') return ['camera', 'screen'];
  return type === 'none' ? [] : [type];
}

/** The interval between two snapshots of one source, in seconds. */
export const SNAPSHOT_INTERVAL_SECONDS = { min: 5, max: 3_600, default: 60 } as const;
/** The largest snapshot the appliance accepts (the client sends 320 px camera and 960 px screen JPEGs, 15–120 KB). */
export const SNAPSHOT_MAX_BYTES = 512 * 1024;
/**
 * What one snapshot weighs on disk for the estimate on Exam info and the doctor, before any was
 * taken: a 320×240 camera JPEG at quality 0.6 is 10–25 KB, a 960 px wide screen JPEG 40–120 KB.
 * The estimate uses the upper ends.
 */
export const SNAPSHOT_ESTIMATE_BYTES: Record<SnapshotSource, number> = { camera: 25_000, screen: 120_000 };

/** The disk an exam's snapshots take: examinees × snapshots per examinee × bytes per snapshot, per source. */
export function snapshotDiskEstimate(input: {
  type: ProctoringType;
  intervalSeconds: number;
  examinees: number;
  /** The longest time an examinee writes (duration with extensions and accommodation). */
  minutes: number;
}): { bytes: number; snapshotsPerExaminee: number } {
  const sources = snapshotSources(input.type);
  const perSource = Math.ceil((input.minutes * 60) / input.intervalSeconds);
  const bytes = sources.reduce((sum, s) => sum + perSource * SNAPSHOT_ESTIMATE_BYTES[s] * input.examinees, 0);
  return { bytes, snapshotsPerExaminee: perSource * sources.length };
}

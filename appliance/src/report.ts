/**
 * The session report: the participants table with every column as CSV (for a spreadsheet), and
 * the event log as JSON lines (one canonical event per line, verifiable with verify-log).
 */
import { eventText, type ExamEvent } from '../../domain/events.js';
import type { ParticipantRow } from '../../domain/monitor.js';

/** CSV cell per RFC 4180; cells a spreadsheet would run as a formula are prefixed with '. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// Email and phone are not here: they are shown one examinee at a time, and each look is an event.
const COLUMNS: Array<[string, (r: ParticipantRow) => unknown]> = [
  ['studentId', (r) => r.studentId],
  ['name', (r) => r.name],
  ['seat', (r) => r.seat],
  ['status', (r) => r.status],
  ['maxDownloads', (r) => r.maxDownloads],
  ['downloads', (r) => r.downloads],
  ['firstDownloadAt', (r) => r.firstDownloadAt],
  ['uploadedAt', (r) => r.uploadedAt],
  ['submissionType', (r) => r.submissionType],
  ['late', (r) => r.late],
  ['timing', (r) => r.timing],
  ['changedAfterTimeUp', (r) => r.changedAfterTimeUp],
  ['timeUpDifferingAnswers', (r) => r.timeUp?.differingAnswers],
  ['timeUpUnseenSeconds', (r) => (r.timeUp?.unseenMs == null ? null : Math.round(r.timeUp.unseenMs / 1000))],
  ['timeUpDecision', (r) => r.timeUp?.decision],
  ['filesUploaded', (r) => r.filesUploaded],
  ['lateLoginDeadline', (r) => r.lateLoginDeadline],
  ['verificationMode', (r) => r.verificationMode],
  ['verification', (r) => r.verification],
  ['bathroom', (r) => r.bathroom],
  ['disabledHardwareChecks', (r) => r.disabledHardwareChecks],
  ['extensionMinutes', (r) => r.extensionMinutes],
  ['accommodationPercent', (r) => r.accommodationPercent],
  ['deadline', (r) => r.deadline],
  ['answeredPercent', (r) => r.answeredPercent],
  ['closedScore', (r) => r.closedScore?.score],
  ['closedMaxScore', (r) => r.closedScore?.maxScore],
  ['integrityScore', (r) => r.integrityScore],
  ['integrityEvents', (r) => r.integrityEvents],
  ['integrityReview', (r) => r.integrityReview],
  ['resumeCodesIssued', (r) => r.resumeCodesIssued],
  ['lastActivityAt', (r) => r.lastActivityAt],
  // Added later, after the first columns, so that a reader of the older report still finds its own.
  ['examineeId', (r) => r.examineeId],
  ['proctoringType', (r) => r.proctoringType],
  ['snapshots', (r) => r.snapshots],
  ['snapshotProblems', (r) => Object.entries(r.snapshotProblems).map(([source, problem]) => `${source}:${problem}`)],
];

/** The participants report: every column of the Participants tab. */
export function participantsCsv(rows: readonly ParticipantRow[]): string {
  const lines = [COLUMNS.map(([name]) => name).join(',')];
  const sorted = [...rows].sort((a, b) => a.studentId.localeCompare(b.studentId, undefined, { numeric: true }));
  for (const r of sorted) lines.push(COLUMNS.map(([, get]) => csvCell(get(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The event log, one canonical JSON event per line, in chain order. */
export function eventLogLines(events: readonly ExamEvent[]): string {
  return events.map((e) => `${eventText(e)}\n`).join('');
}

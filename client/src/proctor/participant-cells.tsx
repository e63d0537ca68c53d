/** What each cell of the participants table and cards shows (participants.tsx). */
import type { ComponentChildren } from 'preact';
import { t } from '../i18n';
import {
  type ExamInfo,
  type ParticipantColumn,
  type ParticipantRow,
  type SnapshotProblem,
  type SnapshotSource,
} from './api';
import { dateTime, duration, StatusBadge, timeOfDay } from './format';
import { rowTimeLeft } from './rules';

const P = t.proctor.participants;
const R = t.proctor.proctoring;

/** What one cell shows. */
export function cell(row: ParticipantRow, column: ParticipantColumn, info: ExamInfo, now: number): ComponentChildren {
  switch (column) {
    case 'name':
      return row.name;
    case 'studentId':
      return row.studentId;
    case 'examineeId':
      return row.examineeId ?? '—';
    case 'seat':
      return row.seat ?? '—';
    case 'contact':
      return P.contactOnFile(row.hasEmail, row.hasPhone);
    case 'status':
      return (
        <>
          <StatusBadge status={row.status} />
          {row.networkRefusedFrom !== null && (
            <span class="row-flag" data-testid="network-refused">
              {P.networkRefused(row.networkRefusedFrom)}
            </span>
          )}
        </>
      );
    case 'maxDownloads':
      return row.maxDownloads;
    case 'downloads':
      return P.downloadsValue(row.downloads, row.firstDownloadAt === null ? null : timeOfDay(row.firstDownloadAt));
    case 'upload':
      return row.uploadedAt === null ? (
        P.notUploaded
      ) : (
        <span class="uploaded">
          {P.uploadedAt(dateTime(row.uploadedAt))}
          {row.late ? ` (${P.late})` : ''}
          {row.changedAfterTimeUp && (
            <span class="flag-time-up" data-testid="flag-changed-after-time-up">
              {' '}
              {P.changedAfterTimeUp}
              {row.timeUp?.decision ? ` (${P.timeUpDecided(row.timeUp.decision)})` : ''}
            </span>
          )}
        </span>
      );
    case 'lateLogin':
      return `${timeOfDay(row.lateLoginDeadline)}${row.personalLateLoginMinutes === null ? '' : ` (${P.personal})`}`;
    case 'verification':
      return (
        <>
          {P.verificationValue(
            t.proctor.info.verificationModes[row.verificationMode],
            P.verificationStates[row.verification] ?? row.verification,
          )}
          {row.wrongVerificationPasswords > 0 && (
            <span class="row-flag" data-testid="wrong-passwords">
              {P.wrongPasswords(row.wrongVerificationPasswords)}
            </span>
          )}
        </>
      );
    case 'bathroom':
      return P.bathroomStates[row.bathroom] ?? row.bathroom;
    case 'hardwareChecks':
      return row.disabledHardwareChecks.length === 0
        ? P.noneDisabled
        : row.disabledHardwareChecks.map((c) => t.proctor.hardware[c]).join(', ');
    case 'timeExtension':
      return P.extensionValue(row.extensionMinutes, row.accommodationPercent);
    case 'timeLeft': {
      const left = rowTimeLeft(row, info, now);
      return left === null ? P.timeLeftDone : duration(left);
    }
    case 'submissionType':
      return P.submissionTypes[row.submissionType] ?? row.submissionType;
    case 'filesUploaded':
      return row.filesUploaded;
    case 'answered':
      return (
        <span class="answered-cell">
          <span class="mini-bar" aria-hidden="true" style={{ '--answered': `${row.answeredPercent}%` }} />
          {P.answeredValue(row.answeredPercent, row.answered, row.questions)}
        </span>
      );
    case 'closedScore':
      return row.closedScore === null ? P.notScored : P.scoreValue(row.closedScore.score, row.closedScore.maxScore);
    case 'integrityScore':
      return (
        <>
          {P.integrityValue(row.integrityScore, row.integrityEvents)}
          <SnapshotProblems row={row} />
        </>
      );
    case 'integrityReview':
      return t.proctor.actions.reviewStates[row.integrityReview];
    case 'resumeCodes':
      return row.resumeCodesIssued;
    case 'proctoring':
      return (
        <>
          {R.cell(R.types[row.proctoringType], row.snapshots)}
          <SnapshotProblems row={row} />
        </>
      );
  }
}

/** What the device said it cannot photograph (camera refused, screen sharing stopped), as a flag. */
function SnapshotProblems(props: { row: ParticipantRow }) {
  const problems = Object.entries(props.row.snapshotProblems) as [SnapshotSource, SnapshotProblem][];
  if (problems.length === 0 || props.row.proctoringType === 'none') return null;
  return (
    <span class="row-flag" data-testid="snapshot-problem">
      {problems.map(([source, problem]) => R.problem(source, problem)).join(', ')}
    </span>
  );
}

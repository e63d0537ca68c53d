/**
 * The Resume codes tab: the examinee reads out the continuation code on their locked screen;
 * the proctor enters the examinee and that code, and the appliance answers the resume code
 * (POST .../participants/:studentId/resume-code, once per code), shown large as XXXXX-XXXXX.
 * Unknown, already given, used and locked continuation codes are explained in plain words.
 */
import { useState } from 'preact/hooks';
import { formatChallenge, formatResumeCode } from '../../../domain/resume-codes.js';
import { t } from '../i18n';
import { resumeCode, type ParticipantRow } from './api';
import { findExaminee } from './rules';

const R = t.proctor.resume;

export function ResumeCodesTab(props: { examId: string; rows: ParticipantRow[] }) {
  const [examinee, setExaminee] = useState('');
  const [challenge, setChallenge] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [issued, setIssued] = useState<{ row: ParticipantRow; challenge: string; code: string } | undefined>(undefined);

  const submit = async (e: Event) => {
    e.preventDefault();
    const row = findExaminee(props.rows, examinee);
    if (!row) {
      setError(R.unknownExaminee);
      return;
    }
    setBusy(true);
    setError(undefined);
    const result = await resumeCode(props.examId, row.studentId, challenge);
    setBusy(false);
    if (result.ok) {
      setIssued({ row, challenge: result.body.challenge, code: result.body.resumeCode });
      setChallenge('');
    } else {
      setIssued(undefined);
      setError(R.errors[result.code] ?? result.message);
    }
  };

  return (
    <div class="resume-codes stack">
      <h3>{R.heading}</h3>
      <p class="muted">{R.intro}</p>
      <form onSubmit={submit} class="stack" aria-describedby={error === undefined ? undefined : 'resume-error'}>
        <div class="field">
          <label for="resume-examinee">{R.examinee}</label>
          <input
            id="resume-examinee"
            list="resume-examinees"
            autocomplete="off"
            required
            value={examinee}
            onInput={(e) => setExaminee(e.currentTarget.value)}
          />
          <datalist id="resume-examinees">
            {props.rows.map((r) => (
              <option key={r.studentId} value={`${r.studentId} — ${r.name}`} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="resume-challenge">{R.challenge}</label>
          <input
            id="resume-challenge"
            class="code-input mono"
            autocomplete="off"
            autocapitalize="characters"
            spellcheck={false}
            required
            maxLength={64}
            aria-describedby="resume-challenge-hint"
            value={challenge}
            onInput={(e) => setChallenge(e.currentTarget.value.toUpperCase())}
          />
          <p id="resume-challenge-hint" class="muted small-text">
            {R.challengeHint}
          </p>
        </div>
        <div>
          <button type="submit" disabled={busy}>
            {busy ? R.working : R.submit}
          </button>
        </div>
      </form>
      {error !== undefined && (
        <p id="resume-error" role="alert" class="alert" data-testid="resume-error">
          {error}
        </p>
      )}
      {issued !== undefined && (
        <section class="resume-result card" aria-labelledby="resume-result-heading" role="status">
          <h4 id="resume-result-heading">{R.resultHeading}</h4>
          <p class="resume-code mono" data-testid="resume-code">
            {formatResumeCode(issued.code)}
          </p>
          <p>{R.resultFor(issued.row.name, issued.row.studentId, formatChallenge(issued.challenge))}</p>
        </section>
      )}
    </div>
  );
}

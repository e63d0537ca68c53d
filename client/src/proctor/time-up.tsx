/**
 * Time-up in the examinee dialog: how the submission stood against the time (domain/time-up.ts),
 * and for one changed after time-up, the answers the appliance held at the deadline beside the
 * submitted file (GET .../time-up), with the chief proctor's decision (POST .../time-up-decision).
 */
import { useState } from 'preact/hooks';
import type { AnswerValue } from '../../../domain/answers.js';
import { TIME_UP_CHOICES, type TimeUpChoice } from '../../../domain/time-up.js';
import { t } from '../i18n';
import { rowAction, timeUpView, type ParticipantRow, type TimeUpView } from './api';
import { duration } from './format';

const A = t.proctor.actions;

function answerText(value: AnswerValue | undefined): string {
  if (value === undefined) return A.timeUpNoAnswer;
  if (typeof value === 'string') return value === '' ? A.timeUpNoAnswer : value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : v.name)).join(', ');
  return String(value);
}

export function TimeUpSection(props: {
  examId: string;
  row: ParticipantRow;
  chief: boolean;
  onRow: (row: ParticipantRow) => void;
}) {
  const { row, chief } = props;
  const [view, setView] = useState<TimeUpView | undefined>(undefined);
  const [choice, setChoice] = useState<TimeUpChoice>('submitted-file');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  if (row.timing === null) return null;

  const load = async () => {
    const result = await timeUpView(props.examId, row.studentId);
    if (result.ok) setView(result.body);
    else setMessage({ ok: false, text: result.message });
  };
  const decide = async () => {
    if (row.submissionId === null) return;
    setBusy(true);
    const result = await rowAction(props.examId, row.studentId, 'time-up-decision', {
      submissionId: row.submissionId,
      choice,
      ...(note.trim() === '' ? {} : { note: note.trim() }),
    });
    setBusy(false);
    if (result.ok) {
      props.onRow(result.body.row);
      setMessage({ ok: true, text: A.done });
      await load();
    } else setMessage({ ok: false, text: result.message });
  };
  const decision = view?.timeUp?.decision;

  return (
    <section class="action-section" aria-labelledby="act-time-up" data-testid="time-up">
      <h4 id="act-time-up">{A.timeUpHeading}</h4>
      <p data-testid="time-up-case">{A.timeUpCase[row.timing] ?? row.timing}</p>
      {row.timeUp && (
        <>
          <p>
            {A.timeUpSummary(
              row.timeUp.differingAnswers,
              row.timeUp.unseenMs === null ? null : duration(row.timeUp.unseenMs),
            )}
          </p>
          {view === undefined ? (
            <button type="button" class="secondary" onClick={() => void load()}>
              {A.timeUpShow}
            </button>
          ) : (
            view.timeUp && (
              <table class="time-up-versions" data-testid="time-up-versions">
                <thead>
                  <tr>
                    <th scope="col">{A.timeUpQuestion}</th>
                    <th scope="col">{A.timeUpAtDeadline}</th>
                    <th scope="col">{A.timeUpSubmitted}</th>
                  </tr>
                </thead>
                <tbody>
                  {view.timeUp.differingQuestions.map((q) => (
                    <tr key={q.id}>
                      <th scope="row">
                        {q.id}: {q.prompt}
                      </th>
                      <td class="break">{answerText(view.timeUp?.answersAtTimeUp.answers[q.id])}</td>
                      <td class="break">{answerText(view.timeUp?.submittedFile.answers[q.id])}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          )}
          {decision ? (
            <p data-testid="time-up-decision">
              {A.timeUpDecided(A.timeUpChoices[decision.choice] ?? decision.choice, decision.by)}
            </p>
          ) : row.timeUp.decision !== null ? (
            <p data-testid="time-up-decision">{A.timeUpChoices[row.timeUp.decision] ?? row.timeUp.decision}</p>
          ) : (
            <form
              class="stack"
              onSubmit={(e) => {
                e.preventDefault();
                void decide();
              }}
            >
              <fieldset disabled={!chief} class="plain">
                {TIME_UP_CHOICES.map((c) => (
                  <label key={c} class="choice">
                    <input
                      type="radio"
                      name="time-up-choice"
                      value={c}
                      checked={choice === c}
                      onChange={() => setChoice(c)}
                    />{' '}
                    {A.timeUpChoices[c]}
                  </label>
                ))}
                <div class="field">
                  <label for="act-time-up-note">{A.timeUpNoteLabel}</label>
                  <textarea
                    id="act-time-up-note"
                    rows={2}
                    maxLength={2000}
                    value={note}
                    onInput={(e) => setNote(e.currentTarget.value)}
                  />
                </div>
                <button type="submit" disabled={busy || !chief}>
                  {A.timeUpDecide}
                </button>
              </fieldset>
              {!chief && <p class="muted small-text">{t.proctor.chiefOnly}</p>}
            </form>
          )}
        </>
      )}
      {message && (
        <p role="status" class={message.ok ? 'notice-ok-inline' : 'alert'}>
          {message.text}
        </p>
      )}
    </section>
  );
}

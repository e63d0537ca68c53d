/**
 * The Exam info tab's exam password (chief): hidden until asked for, since each look is an event
 * in the exam's log (GET .../exam-password); shown large enough to read out to a hall.
 */
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { examPassword } from './api';

const I = t.proctor.info;

export function ExamPassword(props: { examId: string; chief: boolean }) {
  const [password, setPassword] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const show = async () => {
    const result = await examPassword(props.examId);
    if (result.ok) {
      setPassword(result.body.password);
      setError(undefined);
    } else setError(result.message);
  };
  return (
    <section aria-labelledby="exam-password-heading">
      <h3 id="exam-password-heading">{I.examPasswordHeading}</h3>
      <p class="muted">{I.examPasswordIntro}</p>
      {password === undefined ? (
        <button type="button" class="secondary" disabled={!props.chief} onClick={() => void show()}>
          {I.showExamPassword}
        </button>
      ) : (
        <p>
          <span class="visually-hidden">{I.examPasswordLabel}: </span>
          <span class="exam-password mono" data-testid="exam-password">
            {password}
          </span>
        </p>
      )}
      {!props.chief && <p class="muted small-text">{t.proctor.chiefOnly}</p>}
      {error !== undefined && (
        <p role="alert" class="alert">
          {error}
        </p>
      )}
    </section>
  );
}

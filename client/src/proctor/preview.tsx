/**
 * The Exam preview tab: the exam as examinees see it (GET .../preview, no answer keys), every
 * question type drawn read-only (disabled controls with their labels), section by section.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ExamForExaminees, ExamineeQuestion } from '../../../domain/exam-package.js';
import { t } from '../i18n';
import { preview } from './api';

const V = t.proctor.preview;

function QuestionPreview(props: { q: ExamineeQuestion; n: number }) {
  const { q, n } = props;
  const id = `preview-${q.id}`;
  return (
    <li class="card question-preview" aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`}>
        {V.question(n, q.points)} <span class="muted small-text">· {V.types[q.type] ?? q.type}</span>
      </h4>
      <p class="pre-line">{q.prompt}</p>
      {(q.type === 'single-choice' || q.type === 'multiple-choice') && (
        <fieldset class="options" disabled>
          <legend class="visually-hidden">{V.question(n, q.points)}</legend>
          {q.options.map((o) => (
            <label class="option" key={o.id}>
              <input type={q.type === 'single-choice' ? 'radio' : 'checkbox'} name={id} disabled />
              {o.text}
            </label>
          ))}
        </fieldset>
      )}
      {q.type === 'true-false' && (
        <fieldset class="options" disabled>
          <legend class="visually-hidden">{V.question(n, q.points)}</legend>
          <label class="option">
            <input type="radio" name={id} disabled />
            {V.true}
          </label>
          <label class="option">
            <input type="radio" name={id} disabled />
            {V.false}
          </label>
        </fieldset>
      )}
      {(q.type === 'numeric' || q.type === 'short-text') && (
        <div class="field">
          <label for={`${id}-answer`}>{V.answer}</label>
          <input id={`${id}-answer`} type="text" disabled inputMode={q.type === 'numeric' ? 'decimal' : undefined} />
          {q.type === 'short-text' && <p class="muted small-text">{V.maxLength(q.maxLength)}</p>}
        </div>
      )}
      {q.type === 'essay' && (
        <div class="field">
          <label for={`${id}-answer`}>{V.answer}</label>
          <textarea id={`${id}-answer`} rows={4} disabled />
          {q.maxWords !== undefined && <p class="muted small-text">{V.maxWords(q.maxWords)}</p>}
        </div>
      )}
      {q.type === 'file' && (
        <p class="muted">
          {V.fileRule(
            q.accept.map((a) => a.toUpperCase()).join(', '),
            Math.round(q.maxBytes / (1024 * 1024)),
            q.maxFiles,
          )}
        </p>
      )}
    </li>
  );
}

export function PreviewTab(props: { examId: string }) {
  const [exam, setExam] = useState<ExamForExaminees | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    void preview(props.examId).then((r) =>
      r.ok ? setExam(r.body.exam) : setError(r.code === 'forbidden-role' ? V.chiefBeforeStart : r.message),
    );
  }, [props.examId]);

  if (error !== undefined)
    return (
      <p role="alert" class="alert">
        {error}
      </p>
    );
  if (exam === undefined) return <p>{t.common.loading}</p>;
  let n = 0;
  return (
    <div class="preview stack" data-testid="exam-preview">
      <h3>{V.heading}</h3>
      <p class="muted">{V.intro}</p>
      {exam.sections.map((s) => (
        <section key={s.id} aria-labelledby={`preview-section-${s.id}`} class="stack">
          <h4 id={`preview-section-${s.id}`}>{V.section(s.title)}</h4>
          <ol class="question-previews">
            {s.questions.map((q) => {
              n++;
              return <QuestionPreview key={q.id} q={q} n={n} />;
            })}
          </ol>
        </section>
      ))}
    </div>
  );
}

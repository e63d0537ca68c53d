/**
 * The opened exam, read-only for now: title, sections with their instructions, and every
 * question with its "Question x of y" heading, prompt and (disabled) answer fields by type.
 * Answering, navigation and flags build on this (issue 4).
 */
import { t } from '../i18n';
import { useFocusOnMount } from '../shared/focus';
import type { ExamContent, ExamQuestion } from '../shared/exam-package';

export function ExamView(props: { exam: ExamContent }) {
  const { exam } = props;
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const total = exam.sections.reduce((n, s) => n + s.questions.length, 0);
  let number = 0;
  return (
    <section aria-labelledby="exam-heading" class="stack">
      <h2 id="exam-heading" ref={heading} tabIndex={-1}>
        {exam.title}
      </h2>
      <p class="muted">{t.exam.readOnlyNote}</p>
      {exam.sections.map((section) => (
        <section key={section.id} aria-labelledby={`section-${section.id}`} class="stack">
          <h3 id={`section-${section.id}`}>{section.title}</h3>
          {section.instructions !== undefined && <p class="pre-line">{section.instructions}</p>}
          {section.questions.map((q) => {
            number += 1;
            return <QuestionView key={q.id} question={q} number={number} total={total} />;
          })}
        </section>
      ))}
    </section>
  );
}

function QuestionView(props: { question: ExamQuestion; number: number; total: number }) {
  const { question: q, number, total } = props;
  const id = `q-${q.id}`;
  return (
    <article class="card question" aria-labelledby={`${id}-heading`} data-question-id={q.id}>
      <h4 id={`${id}-heading`}>{t.exam.questionOf(number, total)}</h4>
      <p class="muted">{t.exam.points(q.points)}</p>
      <p id={`${id}-prompt`} class="prompt pre-line">
        {q.prompt}
      </p>
      <Answer question={q} id={id} />
    </article>
  );
}

function Answer(props: { question: ExamQuestion; id: string }) {
  const { question: q, id } = props;
  const promptId = `${id}-prompt`;
  switch (q.type) {
    case 'single-choice':
    case 'multiple-choice': {
      const multiple = q.type === 'multiple-choice';
      return (
        <fieldset disabled aria-describedby={promptId} class="options">
          <legend>{multiple ? t.exam.chooseAny : t.exam.chooseOne}</legend>
          {q.options.map((o) => (
            <label key={o.id} class="option">
              <input type={multiple ? 'checkbox' : 'radio'} name={id} value={o.id} />
              <span>{o.text}</span>
            </label>
          ))}
        </fieldset>
      );
    }
    case 'true-false':
      return (
        <fieldset disabled aria-describedby={promptId} class="options">
          <legend>{t.exam.chooseOne}</legend>
          <label class="option">
            <input type="radio" name={id} value="true" />
            <span>{t.exam.trueLabel}</span>
          </label>
          <label class="option">
            <input type="radio" name={id} value="false" />
            <span>{t.exam.falseLabel}</span>
          </label>
        </fieldset>
      );
    case 'numeric':
      return (
        <div class="field">
          <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
          <input id={`${id}-answer`} type="text" inputMode="decimal" disabled aria-describedby={promptId} />
        </div>
      );
    case 'short-text':
      return (
        <div class="field">
          <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
          <input
            id={`${id}-answer`}
            type="text"
            maxLength={q.maxLength}
            disabled
            aria-describedby={`${promptId} ${id}-rule`}
          />
          {q.maxLength !== undefined && (
            <p id={`${id}-rule`} class="muted">
              {t.exam.maxCharacters(q.maxLength)}
            </p>
          )}
        </div>
      );
    case 'essay':
      return (
        <div class="field">
          <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
          <textarea id={`${id}-answer`} rows={6} disabled aria-describedby={`${promptId} ${id}-rule`} />
          {q.maxWords !== undefined && (
            <p id={`${id}-rule`} class="muted">
              {t.exam.maxWords(q.maxWords)}
            </p>
          )}
        </div>
      );
    case 'file':
      return (
        <div class="field">
          <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
          <input
            id={`${id}-answer`}
            type="file"
            accept={(q.accept ?? []).map((a) => `.${a}`).join(',') || undefined}
            multiple={(q.maxFiles ?? 1) > 1}
            disabled
            aria-describedby={`${promptId} ${id}-rule`}
          />
          <p id={`${id}-rule`} class="muted">
            {t.exam.fileRules(q.accept ?? [], q.maxFiles ?? 1, Math.round(((q.maxBytes ?? 0) / 1024 / 1024) * 10) / 10)}
          </p>
        </div>
      );
  }
}

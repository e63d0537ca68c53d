/**
 * One question of the exam with its answer field by type, bound to the answer sheet: every
 * change goes to `onChange` (which saves it on the device at once). A file question uploads each
 * chosen file to the appliance with a progress bar (files need the network; the answer keeps
 * their SHA-256, name and size).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AnswerValue, FileRef } from '../../../domain/answers.js';
import { countWords } from '../../../domain/answer-sheet.js';
import { t } from '../i18n';
import type { ExamQuestion } from '../shared/exam-package';
import { uploadAnswerFile } from './file-upload';

export interface QuestionCardProps {
  question: ExamQuestion;
  number: number;
  total: number;
  value: AnswerValue | undefined;
  flagged: boolean;
  token: string;
  disabled?: boolean;
  onChange: (value: AnswerValue | undefined) => void;
  onFlag: (flagged: boolean) => void;
}

export function QuestionCard(props: QuestionCardProps) {
  const { question: q, number, total, flagged } = props;
  const id = `q-${q.id}`;
  return (
    <article class="card question" aria-labelledby={`${id}-heading`} data-question-id={q.id}>
      <div class="question-head">
        <h3 id={`${id}-heading`} tabIndex={-1}>
          {t.exam.questionOf(number, total)}
        </h3>
        <span class="muted">{t.exam.points(q.points)}</span>
      </div>
      <p id={`${id}-prompt`} class="prompt pre-line">
        {q.prompt}
      </p>
      <Answer {...props} id={id} />
      <label class="flag-toggle">
        <input
          type="checkbox"
          checked={flagged}
          disabled={props.disabled}
          onChange={(e) => props.onFlag(e.currentTarget.checked)}
        />
        <span>{t.exam.flagForReview}</span>
      </label>
    </article>
  );
}

function Answer(props: QuestionCardProps & { id: string }) {
  const { question: q, id, value, onChange, disabled } = props;
  const promptId = `${id}-prompt`;
  switch (q.type) {
    case 'single-choice':
    case 'multiple-choice': {
      const multiple = q.type === 'multiple-choice';
      const chosen = new Set(Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : []);
      return (
        <fieldset aria-describedby={promptId} class="options" disabled={disabled}>
          <legend>{multiple ? t.exam.chooseAny : t.exam.chooseOne}</legend>
          {q.options.map((o) => (
            <label key={o.id} class="option">
              <input
                type={multiple ? 'checkbox' : 'radio'}
                name={id}
                value={o.id}
                checked={chosen.has(o.id)}
                onChange={(e) => {
                  if (!multiple) return onChange(o.id);
                  const next = new Set(chosen);
                  if (e.currentTarget.checked) next.add(o.id);
                  else next.delete(o.id);
                  onChange([...next]);
                }}
              />
              <span>{o.text}</span>
            </label>
          ))}
          {!multiple && value !== undefined && (
            <button type="button" class="link-button" onClick={() => onChange(undefined)}>
              {t.exam.clearAnswer}
            </button>
          )}
        </fieldset>
      );
    }
    case 'true-false':
      return (
        <fieldset aria-describedby={promptId} class="options" disabled={disabled}>
          <legend>{t.exam.chooseOne}</legend>
          {[true, false].map((v) => (
            <label key={String(v)} class="option">
              <input type="radio" name={id} value={String(v)} checked={value === v} onChange={() => onChange(v)} />
              <span>{v ? t.exam.trueLabel : t.exam.falseLabel}</span>
            </label>
          ))}
        </fieldset>
      );
    case 'numeric':
      return <NumericAnswer {...props} id={id} />;
    case 'short-text':
      return (
        <div class="field">
          <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
          <input
            id={`${id}-answer`}
            type="text"
            maxLength={q.maxLength}
            disabled={disabled}
            autocomplete="off"
            aria-describedby={`${promptId} ${id}-rule`}
            value={typeof value === 'string' ? value : ''}
            onInput={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
          />
          {q.maxLength !== undefined && (
            <p id={`${id}-rule`} class="muted">
              {t.exam.maxCharacters(q.maxLength)}
            </p>
          )}
        </div>
      );
    case 'essay': {
      const text = typeof value === 'string' ? value : '';
      const words = countWords(text);
      const over = q.maxWords !== undefined && words > q.maxWords;
      return (
        <div class="field">
          <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
          <textarea
            id={`${id}-answer`}
            rows={10}
            disabled={disabled}
            aria-describedby={`${promptId} ${id}-rule`}
            aria-invalid={over}
            value={text}
            onInput={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
          />
          <p id={`${id}-rule`} class={over ? 'alert' : 'muted'}>
            {t.exam.wordCount(words, q.maxWords)}
          </p>
        </div>
      );
    }
    case 'file':
      return <FileAnswer {...props} id={id} />;
  }
}

/** A number as typed ("3,5" too); what cannot be read as a number is not saved and says so. */
export function parseNumber(text: string): number | undefined {
  const normal = text.trim().replace(/\s/g, '').replace(',', '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(normal)) return undefined;
  const n = Number(normal);
  return Number.isFinite(n) ? n : undefined;
}

function NumericAnswer(props: QuestionCardProps & { id: string }) {
  const { id, value, onChange, disabled } = props;
  const [text, setText] = useState(typeof value === 'number' ? String(value) : '');
  const [bad, setBad] = useState(false);
  useEffect(() => {
    // Another source (a reload, the appliance) changed the value: show it.
    if (typeof value === 'number' && parseNumber(text) !== value) setText(String(value));
    // (Only when the stored value changes; typing keeps its own text.)
  }, [value]);
  return (
    <div class="field">
      <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
      <input
        id={`${id}-answer`}
        type="text"
        inputMode="decimal"
        autocomplete="off"
        disabled={disabled}
        aria-describedby={`${id}-prompt ${id}-rule`}
        aria-invalid={bad}
        value={text}
        onInput={(e) => {
          const typed = e.currentTarget.value;
          setText(typed);
          if (typed.trim() === '') {
            setBad(false);
            onChange(undefined);
            return;
          }
          const n = parseNumber(typed);
          setBad(n === undefined);
          if (n !== undefined) onChange(n);
        }}
      />
      <p id={`${id}-rule`} class={bad ? 'alert' : 'muted'}>
        {bad ? t.exam.notANumber : t.exam.numberHint}
      </p>
    </div>
  );
}

function FileAnswer(props: QuestionCardProps & { id: string }) {
  const { question: q, id, value, onChange, disabled, token } = props;
  if (q.type !== 'file') return null;
  const files: FileRef[] = Array.isArray(value) ? (value as FileRef[]).filter((f) => typeof f === 'object') : [];
  const [progress, setProgress] = useState<{ name: string; sent: number; total: number } | undefined>();
  const [error, setError] = useState('');
  const maxFiles = q.maxFiles ?? 1;
  const choose = async (list: FileList | null) => {
    if (!list || list.length === 0) return;
    setError('');
    let next = [...files];
    for (const file of Array.from(list)) {
      if (next.length >= maxFiles) {
        setError(t.exam.tooManyFiles(maxFiles));
        break;
      }
      if (!navigator.onLine) {
        setError(t.exam.fileNeedsNetwork);
        break;
      }
      setProgress({ name: file.name, sent: 0, total: file.size });
      const result = await uploadAnswerFile(token, q.id, file, (sent, total) =>
        setProgress({ name: file.name, sent, total }),
      );
      setProgress(undefined);
      if (!result.ok) {
        setError(result.message);
        break;
      }
      next = [...next.filter((f) => f.sha256 !== result.file.sha256), result.file];
      onChange(next);
    }
  };
  return (
    <div class="field">
      <label for={`${id}-answer`}>{t.exam.chooseFiles}</label>
      <input
        id={`${id}-answer`}
        type="file"
        accept={(q.accept ?? []).map((a) => `.${a}`).join(',') || undefined}
        multiple={maxFiles > 1}
        disabled={disabled || progress !== undefined}
        aria-describedby={`${id}-prompt ${id}-rule`}
        onChange={(e) => {
          const input = e.currentTarget;
          void choose(input.files).then(() => (input.value = ''));
        }}
      />
      <p id={`${id}-rule`} class="muted">
        {t.exam.fileRules(q.accept ?? [], maxFiles, Math.round(((q.maxBytes ?? 0) / 1024 / 1024) * 10) / 10)}
      </p>
      {progress && (
        <div>
          <label for={`${id}-progress`}>{t.exam.uploading(progress.name)}</label>
          <progress id={`${id}-progress`} max={progress.total || 1} value={progress.sent} />
        </div>
      )}
      {files.length > 0 && (
        <ul class="file-list" aria-label={t.exam.uploadedFiles}>
          {files.map((f) => (
            <li key={f.sha256}>
              <span>
                {f.name} ({t.exam.fileSize(f.size)})
              </span>
              <button
                type="button"
                class="link-button"
                disabled={disabled}
                onClick={() => {
                  const rest = files.filter((x) => x.sha256 !== f.sha256);
                  onChange(rest.length === 0 ? undefined : rest);
                }}
              >
                {t.exam.removeFile(f.name)}
              </button>
            </li>
          ))}
        </ul>
      )}
      <p role="alert" class="alert">
        {error}
      </p>
    </div>
  );
}

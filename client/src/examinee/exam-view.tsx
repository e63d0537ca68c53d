/**
 * One question of the exam with its answer field by type. Each field owns what is being typed
 * (use-answers.ts): its value is local state, set synchronously in the input handler and written
 * behind to the device's answer sheet by the writer; the store's value never replaces what a
 * focused field holds. A file question uploads each chosen file to the appliance with a progress
 * bar (files need the network; the answer keeps their SHA-256, name and size).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AnswerValue, FileRef } from '../../../domain/answers.js';
import { countWords, MAX_TEXT_ANSWER_LENGTH } from '../../../domain/answer-sheet.js';
import { t } from '../i18n';
import type { ExamineeQuestion } from '../shared/exam-package';
import type { AnswerWriter } from './answer-writer';
import { uploadAnswerFile } from './file-upload';
import type { SheetDoc } from './local-db';
import { useAnswerField, useFlagField } from './use-answers';

export interface QuestionCardProps {
  question: ExamineeQuestion;
  number: number;
  total: number;
  /** The device's sheet as stored (fields take from it only what they do not own). */
  sheet: SheetDoc;
  writer: AnswerWriter;
  token: string;
  /** Read-only (the exam moved to another device). */
  disabled?: boolean;
}

export function QuestionCard(props: QuestionCardProps) {
  const { question: q, number, total } = props;
  const id = `q-${q.id}`;
  const flag = useFlagField(props.writer, q.id, props.sheet);
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
          checked={flag.flagged}
          disabled={props.disabled}
          onChange={(e) => flag.change(e.currentTarget.checked)}
        />
        <span>{t.exam.flagForReview}</span>
      </label>
    </article>
  );
}

type AnswerProps = QuestionCardProps & { id: string };

function Answer(props: AnswerProps) {
  switch (props.question.type) {
    case 'single-choice':
    case 'multiple-choice':
      return <ChoiceAnswer {...props} />;
    case 'true-false':
      return <TrueFalseAnswer {...props} />;
    case 'numeric':
      return <NumericAnswer {...props} />;
    case 'short-text':
    case 'essay':
      return <TextAnswer {...props} />;
    case 'file':
      return <FileAnswer {...props} />;
  }
}

function ChoiceAnswer(props: AnswerProps) {
  const { question: q, id, disabled } = props;
  const field = useAnswerField(props.writer, q.id, props.sheet);
  if (q.type !== 'single-choice' && q.type !== 'multiple-choice') return null;
  const value = field.value;
  const multiple = q.type === 'multiple-choice';
  const chosen = new Set(Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : []);
  return (
    <fieldset aria-describedby={`${id}-prompt`} class="options" disabled={disabled}>
      <legend>{multiple ? t.exam.chooseAny : t.exam.chooseOne}</legend>
      {q.options.map((o) => (
        <label key={o.id} class="option">
          <input
            type={multiple ? 'checkbox' : 'radio'}
            name={id}
            value={o.id}
            checked={chosen.has(o.id)}
            onChange={(e) => {
              if (!multiple) return field.change(o.id, { now: true });
              const next = new Set(chosen);
              if (e.currentTarget.checked) next.add(o.id);
              else next.delete(o.id);
              field.change([...next], { now: true });
            }}
          />
          <span>{o.text}</span>
        </label>
      ))}
      {!multiple && value !== undefined && (
        <button type="button" class="link-button" onClick={() => field.change(undefined, { now: true })}>
          {t.exam.clearAnswer}
        </button>
      )}
    </fieldset>
  );
}

function TrueFalseAnswer(props: AnswerProps) {
  const { question: q, id, disabled } = props;
  const field = useAnswerField(props.writer, q.id, props.sheet);
  return (
    <fieldset aria-describedby={`${id}-prompt`} class="options" disabled={disabled}>
      <legend>{t.exam.chooseOne}</legend>
      {[true, false].map((v) => (
        <label key={String(v)} class="option">
          <input
            type="radio"
            name={id}
            value={String(v)}
            checked={field.value === v}
            onChange={() => field.change(v, { now: true })}
          />
          <span>{v ? t.exam.trueLabel : t.exam.falseLabel}</span>
        </label>
      ))}
    </fieldset>
  );
}

/**
 * Short text and essay. The text is the field's own (see use-answers.ts): the input handler sets
 * it synchronously, so no keystroke, IME composition, paste, undo step or caret position is ever
 * overwritten by the store.
 */
function TextAnswer(props: AnswerProps) {
  const { question: q, id, disabled } = props;
  const field = useAnswerField<HTMLInputElement & HTMLTextAreaElement>(props.writer, q.id, props.sheet);
  const text = typeof field.value === 'string' ? field.value : '';
  const onInput = (e: { currentTarget: { value: string } }) =>
    field.change(e.currentTarget.value === '' ? undefined : e.currentTarget.value);
  if (q.type === 'short-text') {
    return (
      <div class="field">
        <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
        <input
          {...field.bind}
          id={`${id}-answer`}
          type="text"
          maxLength={q.maxLength}
          disabled={disabled}
          autocomplete="off"
          aria-describedby={`${id}-prompt ${id}-rule`}
          value={text}
          onInput={onInput}
        />
        {q.maxLength !== undefined && (
          <p id={`${id}-rule`} class="muted">
            {t.exam.maxCharacters(q.maxLength)}
          </p>
        )}
      </div>
    );
  }
  if (q.type !== 'essay') return null;
  const words = countWords(text);
  const over = q.maxWords !== undefined && words > q.maxWords;
  return (
    <div class="field">
      <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
      <textarea
        {...field.bind}
        id={`${id}-answer`}
        rows={10}
        maxLength={MAX_TEXT_ANSWER_LENGTH}
        disabled={disabled}
        aria-describedby={`${id}-prompt ${id}-rule`}
        aria-invalid={over}
        value={text}
        onInput={onInput}
      />
      <p id={`${id}-rule`} class={over ? 'alert' : 'muted'}>
        {t.exam.wordCount(words, q.maxWords)}
      </p>
    </div>
  );
}

/** A number as typed ("3,5" too); what cannot be read as a number is not saved and says so. */
export function parseNumber(text: string): number | undefined {
  const normal = text.trim().replace(/\s/g, '').replace(',', '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(normal)) return undefined;
  const n = Number(normal);
  return Number.isFinite(n) ? n : undefined;
}

function NumericAnswer(props: AnswerProps) {
  const { question: q, id, disabled } = props;
  const field = useAnswerField<HTMLInputElement>(props.writer, q.id, props.sheet);
  const value = field.value;
  const [text, setText] = useState(typeof value === 'number' ? String(value) : '');
  const [bad, setBad] = useState(false);
  useEffect(() => {
    // The field took a value from the store (a reload, another device): show it. Typing keeps
    // its own text ("3,50" stays as typed while it means 3.5).
    setText((shown) => (typeof value === 'number' && parseNumber(shown) !== value ? String(value) : shown));
  }, [value]);
  return (
    <div class="field">
      <label for={`${id}-answer`}>{t.exam.yourAnswer}</label>
      <input
        {...field.bind}
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
            field.change(undefined);
            return;
          }
          const n = parseNumber(typed);
          setBad(n === undefined);
          if (n !== undefined) field.change(n);
        }}
      />
      <p id={`${id}-rule`} class={bad ? 'alert' : 'muted'}>
        {bad ? t.exam.notANumber : t.exam.numberHint}
      </p>
    </div>
  );
}

function FileAnswer(props: AnswerProps) {
  const { question: q, id, disabled, token } = props;
  const field = useAnswerField<HTMLInputElement>(props.writer, q.id, props.sheet);
  const [progress, setProgress] = useState<{ name: string; sent: number; total: number } | undefined>();
  const [error, setError] = useState('');
  if (q.type !== 'file') return null;
  const value = field.value;
  const onChange = (files: AnswerValue | undefined) => field.change(files, { now: true });
  const files: FileRef[] = Array.isArray(value) ? (value as FileRef[]).filter((f) => typeof f === 'object') : [];
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
      {/* The browser's own "No file chosen" would contradict a file handed in: the input is
          hidden and its label, styled as a button, says what the next choice does. */}
      <div class="file-picker">
        <input
          {...field.bind}
          id={`${id}-answer`}
          class="visually-hidden"
          type="file"
          accept={(q.accept ?? []).map((a) => `.${a}`).join(',') || undefined}
          multiple={maxFiles > 1}
          disabled={disabled || progress !== undefined}
          aria-describedby={`${id}-prompt ${id}-rule ${id}-handed-in`}
          onChange={(e) => {
            const input = e.currentTarget;
            void choose(input.files).then(() => (input.value = ''));
          }}
        />
        <label for={`${id}-answer`} class="button">
          {files.length === 0 ? t.exam.chooseFiles : t.exam.chooseAnotherFile(maxFiles)}
        </label>
        <span id={`${id}-handed-in`} class="muted" data-testid="files-handed-in">
          {files.length === 0 ? t.exam.noFileYet : t.exam.filesHandedIn(files.length)}
        </span>
      </div>
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

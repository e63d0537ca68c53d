/**
 * The Messages tab: every message of the exam, live from the monitor stream (announcements,
 * messages about a question, private ones, and examinees' questions, which are highlighted and
 * announced to screen readers as they arrive), and a form to send an announcement, a message
 * about a question, or a private message to one examinee (POST .../messages).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Question } from '../../../domain/exam-format.js';
import { t } from '../i18n';
import { preview, sendMessage, type MonitorMessage } from './api';
import { dateTime } from './format';
import type { MonitorData } from './live';
import { useLatest } from '../shared/use-latest';

const M = t.proctor.messages;
type Audience = 'all' | 'question' | 'examinee';

export function MessagesTab(props: {
  examId: string;
  data: MonitorData;
  /** A toast about an examinee's question: the form opens as a private message to them. */
  replyTo?: { studentId: string } | undefined;
}) {
  const { rows, messages } = props.data;
  const [questions, setQuestions] = useState<Question[]>([]);
  const [audience, setAudience] = useState<Audience>('all');
  const [questionId, setQuestionId] = useState('');
  const [studentId, setStudentId] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [announce, setAnnounce] = useState('');
  const seen = useRef<Set<string> | undefined>(undefined);
  const textarea = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (props.replyTo === undefined) return;
    setAudience('examinee');
    setStudentId(props.replyTo.studentId);
    textarea.current?.focus();
  }, [props.replyTo]);

  const names = useMemo(() => new Map(rows.map((r) => [r.studentId, r.name])), [rows]);
  const nameOf = (id: string | null) => (id === null ? '' : (names.get(id) ?? id));
  const questionLabel = (id: string) => {
    const i = questions.findIndex((q) => q.id === id);
    return i < 0 ? id : M.questionLabel(i + 1, questions[i]!.prompt.slice(0, 60));
  };

  useEffect(() => {
    void preview(props.examId).then((r) => {
      if (r.ok) setQuestions(r.body.exam.sections.flatMap((s) => s.questions));
    });
  }, [props.examId]);

  // Examinees' questions that arrive while this tab is open are read out.
  const latestNameOf = useLatest(nameOf);
  useEffect(() => {
    if (seen.current === undefined) {
      seen.current = new Set(messages.map((m) => m.messageId));
      return;
    }
    for (const m of messages) {
      if (seen.current.has(m.messageId)) continue;
      seen.current.add(m.messageId);
      if (m.from.role === 'examinee') setAnnounce(M.newQuestion(latestNameOf.current(m.studentId), m.text));
    }
  }, [messages, latestNameOf]);

  const send = async (e: Event) => {
    e.preventDefault();
    if (text.trim() === '') return;
    setBusy(true);
    const body =
      audience === 'question' && questionId !== ''
        ? { text, questionId }
        : audience === 'examinee' && studentId !== ''
          ? { text, studentId }
          : { text };
    const result = await sendMessage(props.examId, body);
    setBusy(false);
    if (result.ok) {
      setText('');
      setNote({ ok: true, text: M.sent });
    } else setNote({ ok: false, text: result.message });
  };

  const reply = (m: MonitorMessage) => {
    if (m.studentId === null) return;
    setAudience('examinee');
    setStudentId(m.studentId);
    textarea.current?.focus();
  };

  const label = (m: MonitorMessage) => {
    if (m.from.role === 'examinee') return M.fromExaminee(nameOf(m.from.studentId));
    const from = m.from.role === 'proctor' ? M.fromProctor(m.from.username) : M.system;
    const to =
      m.audience === 'examinee'
        ? M.toExaminee(nameOf(m.studentId))
        : m.questionId !== null
          ? M.aboutQuestion(questionLabel(m.questionId))
          : M.toAll;
    return `${from} · ${to}`;
  };

  return (
    <div class="messages-tab stack">
      <p class="visually-hidden" aria-live="assertive">
        {announce}
      </p>
      <section aria-labelledby="compose-heading">
        <h3 id="compose-heading">{M.composeHeading}</h3>
        <form onSubmit={send} class="stack">
          <fieldset class="plain">
            <legend>{M.audience}</legend>
            {(
              [
                ['all', M.audienceAll],
                ['question', M.audienceQuestion],
                ['examinee', M.audienceExaminee],
              ] as const
            ).map(([value, text]) => (
              <label class="check" key={value}>
                <input
                  type="radio"
                  name="audience"
                  value={value}
                  checked={audience === value}
                  onChange={() => setAudience(value)}
                />
                {text}
              </label>
            ))}
          </fieldset>
          {audience === 'question' && (
            <div class="field">
              <label for="message-question">{M.question}</label>
              <select
                id="message-question"
                required
                value={questionId}
                onChange={(e) => setQuestionId(e.currentTarget.value)}
              >
                <option value="">—</option>
                {questions.map((q, i) => (
                  <option key={q.id} value={q.id}>
                    {M.questionLabel(i + 1, q.prompt.slice(0, 60))}
                  </option>
                ))}
              </select>
            </div>
          )}
          {audience === 'examinee' && (
            <div class="field">
              <label for="message-examinee">{M.examinee}</label>
              <select
                id="message-examinee"
                required
                value={studentId}
                onChange={(e) => setStudentId(e.currentTarget.value)}
              >
                <option value="">—</option>
                {rows.map((r) => (
                  <option key={r.studentId} value={r.studentId}>
                    {r.name} ({r.studentId})
                  </option>
                ))}
              </select>
            </div>
          )}
          <div class="field">
            <label for="message-text">{M.text}</label>
            <textarea
              id="message-text"
              ref={textarea}
              rows={3}
              maxLength={4000}
              required
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </div>
          <div>
            <button type="submit" disabled={busy}>
              {busy ? M.sending : M.send}
            </button>
          </div>
          <p role="status" class={note?.ok === false ? 'alert' : 'muted'}>
            {note?.text ?? ''}
          </p>
        </form>
      </section>

      <section aria-labelledby="message-list-heading">
        <h3 id="message-list-heading">{M.listHeading}</h3>
        {messages.length === 0 ? (
          <p>{M.none}</p>
        ) : (
          <ol class="message-list" data-testid="message-list">
            {[...messages].reverse().map((m) => (
              <li key={m.messageId} class={`card message from-${m.from.role}`}>
                <p class="muted small-text">
                  <span class="mono">{dateTime(m.at)}</span> · {label(m)}
                </p>
                <p class="pre-line">{m.text}</p>
                {m.from.role === 'examinee' && (
                  <button type="button" class="secondary small" onClick={() => reply(m)}>
                    {M.reply(nameOf(m.studentId))}
                  </button>
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}

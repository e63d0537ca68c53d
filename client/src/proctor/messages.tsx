/**
 * The Messages tab: conversations, one per examinee (their questions, each labelled with the
 * question it is about, and the private answers, oldest first), picked from a list (newest
 * activity first, unanswered ones marked) and replied to in place; then the announcements to the
 * hall and the staff messages between invigilators and the chief (never shown to examinees), with
 * a form to send either. Examinees' questions that arrive while the tab is open are read out.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { messageConversations, type MessageThread } from '../../../domain/threads.js';
import { t } from '../i18n';
import { questionLabels, sendMessage, type MonitorMessage, type QuestionLabel } from './api';
import { dateTime } from './format';
import type { MonitorData } from './live';
import { useLatest } from '../shared/use-latest';

const M = t.proctor.messages;
type Audience = 'all' | 'question' | 'staff' | 'examinee';

export function MessagesTab(props: {
  examId: string;
  data: MonitorData;
  /** A toast about an examinee's question: their conversation opens, ready for a reply. */
  replyTo?: { studentId: string } | undefined;
}) {
  const { rows, messages } = props.data;
  const [questions, setQuestions] = useState<QuestionLabel[]>([]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [announce, setAnnounce] = useState('');
  const seen = useRef<Set<string> | undefined>(undefined);
  const replyField = useRef<HTMLTextAreaElement>(null);
  const conversations = useMemo(() => messageConversations(messages), [messages]);

  useEffect(() => {
    if (props.replyTo === undefined) return;
    setSelected(props.replyTo.studentId);
    replyField.current?.focus();
  }, [props.replyTo]);

  const names = useMemo(() => new Map(rows.map((r) => [r.studentId, r.name])), [rows]);
  const nameOf = (id: string | null) => (id === null ? '' : (names.get(id) ?? id));
  const questionNumber = (id: string) => questions.find((q) => q.questionId === id)?.number ?? 0;
  const questionLabel = (id: string) => {
    const q = questions.find((x) => x.questionId === id);
    return q === undefined ? id : labelOf(q);
  };

  useEffect(() => {
    void questionLabels(props.examId).then((r) => {
      if (r.ok) setQuestions(r.body.questions);
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

  const thread =
    conversations.threads.find((th) => th.studentId === selected) ??
    (selected === undefined ? conversations.threads[0] : undefined);
  const author = (m: MonitorMessage) =>
    m.from.role === 'examinee'
      ? M.fromExaminee(nameOf(m.from.studentId))
      : m.from.role === 'proctor'
        ? M.answerFrom(m.from.username)
        : M.system;
  const about = (m: MonitorMessage) => {
    if (m.questionId === null) return '';
    const n = questionNumber(m.questionId);
    return n === 0 ? M.aboutQuestion(m.questionId) : M.aboutQuestionN(n);
  };

  return (
    <div class="messages-tab stack">
      <p class="visually-hidden" aria-live="assertive">
        {announce}
      </p>
      <section aria-labelledby="threads-heading">
        <h3 id="threads-heading">{M.threadsHeading}</h3>
        {conversations.threads.length === 0 ? (
          <p>{M.noThreads}</p>
        ) : (
          <div class="threads">
            <ul class="thread-list" aria-label={M.threadList} data-testid="thread-list">
              {conversations.threads.map((th) => (
                <li key={th.studentId}>
                  <button
                    type="button"
                    class={`thread-pick${th.unanswered ? ' unanswered' : ''}`}
                    aria-current={th === thread ? 'true' : undefined}
                    onClick={() => setSelected(th.studentId)}
                  >
                    <strong>{nameOf(th.studentId)}</strong>
                    <span class={th.unanswered ? 'badge warn' : 'muted small-text'}>
                      {th.unanswered ? M.unanswered : M.answered}
                    </span>
                    <span class="muted small-text mono">{dateTime(th.lastAt)}</span>
                  </button>
                </li>
              ))}
            </ul>
            {thread && (
              <ThreadView
                key={thread.studentId}
                examId={props.examId}
                thread={thread}
                name={nameOf(thread.studentId)}
                author={author}
                about={about}
                field={replyField}
              />
            )}
          </div>
        )}
      </section>
      <Compose examId={props.examId} questions={questions} rows={rows} />
      <section aria-labelledby="message-list-heading">
        <h3 id="message-list-heading">{M.announcementsHeading}</h3>
        {conversations.announcements.length === 0 ? (
          <p>{M.none}</p>
        ) : (
          <ol class="message-list" data-testid="message-list">
            {[...conversations.announcements].reverse().map((m) => (
              <li key={m.messageId} class="card message">
                <p class="muted small-text">
                  <span class="mono">{dateTime(m.at)}</span> ·{' '}
                  {m.from.role === 'proctor' ? M.fromProctor(m.from.username) : M.system} ·{' '}
                  {m.questionId !== null ? M.aboutQuestion(questionLabel(m.questionId)) : M.toAll}
                </p>
                <p class="pre-line">{m.text}</p>
              </li>
            ))}
          </ol>
        )}
      </section>
      <section aria-labelledby="staff-heading">
        <h3 id="staff-heading">{M.staffHeading}</h3>
        {conversations.staff.length === 0 ? (
          <p>{M.staffNone}</p>
        ) : (
          <ol class="message-list" data-testid="staff-list">
            {[...conversations.staff].reverse().map((m) => (
              <li key={m.messageId} class="card message from-staff">
                <p class="muted small-text">
                  <span class="mono">{dateTime(m.at)}</span> ·{' '}
                  {m.from.role === 'proctor' ? M.fromProctor(m.from.username) : M.system} · {M.toStaff}
                </p>
                <p class="pre-line">{m.text}</p>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}

/**
 * A message's text, the send button and what became of it (sent, or the refusal in words): the
 * reply under a conversation and the compose form share it. `children` are the fields above the
 * text (whom it is for).
 */
function MessageForm(props: {
  id: string;
  label: string;
  rows: number;
  sendLabel: string;
  doneText: string;
  field?: { current: HTMLTextAreaElement | null };
  children?: ComponentChildren;
  send: (text: string) => Promise<{ ok: true } | { ok: false; message: string }>;
}) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (text.trim() === '') return;
    setBusy(true);
    const result = await props.send(text);
    setBusy(false);
    if (result.ok) {
      setText('');
      setNote({ ok: true, text: props.doneText });
    } else setNote({ ok: false, text: result.message });
  };
  return (
    <form onSubmit={submit} class="stack">
      {props.children}
      <div class="field">
        <label for={props.id}>{props.label}</label>
        <textarea
          id={props.id}
          ref={props.field}
          rows={props.rows}
          maxLength={4000}
          required
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </div>
      <div>
        <button type="submit" disabled={busy}>
          {busy ? M.sending : props.sendLabel}
        </button>
      </div>
      <p role="status" class={note?.ok === false ? 'alert' : 'muted'}>
        {note?.text}
      </p>
    </form>
  );
}

/** One examinee's conversation, oldest first, and the reply form under it. */
function ThreadView(props: {
  examId: string;
  thread: MessageThread;
  name: string;
  author: (m: MonitorMessage) => string;
  about: (m: MonitorMessage) => string;
  field: { current: HTMLTextAreaElement | null };
}) {
  const { thread } = props;
  return (
    <section class="thread card stack" aria-labelledby="thread-heading" data-testid="thread">
      <h4 id="thread-heading">{M.threadHeading(props.name)}</h4>
      <ol class="thread-messages">
        {thread.messages.map((m) => (
          <li key={m.messageId} class={`message from-${m.from.role}`}>
            <p class="muted small-text">
              <span class="mono">{dateTime(m.at)}</span> · {props.author(m)}
              {m.questionId !== null && (
                <>
                  {' · '}
                  <strong>{props.about(m)}</strong>
                </>
              )}
            </p>
            <p class="pre-line">{m.text}</p>
          </li>
        ))}
      </ol>
      <MessageForm
        id="reply-text"
        label={M.replyLabel(props.name)}
        rows={2}
        sendLabel={M.sendReply}
        doneText={M.replied}
        field={props.field}
        send={(text) => sendMessage(props.examId, { text, audience: 'examinee', studentId: thread.studentId })}
      />
    </section>
  );
}

/** Announcements (to everyone, or about a question), staff messages and private ones. */
/** "Question 2: Which gas…", or "Question 2" while this proctor may not read the paper. */
function labelOf(q: QuestionLabel): string {
  return q.excerpt === null ? M.questionN(q.number) : M.questionLabel(q.number, q.excerpt);
}

function Compose(props: { examId: string; questions: QuestionLabel[]; rows: MonitorData['rows'] }) {
  const [audience, setAudience] = useState<Audience>('all');
  const [questionId, setQuestionId] = useState('');
  const [studentId, setStudentId] = useState('');
  const bodyFor = (text: string) =>
    audience === 'question' && questionId !== ''
      ? { text, questionId }
      : audience === 'examinee' && studentId !== ''
        ? { text, studentId }
        : audience === 'staff'
          ? { text, audience: 'staff' as const }
          : { text };

  return (
    <section aria-labelledby="compose-heading">
      <h3 id="compose-heading">{M.composeHeading}</h3>
      <MessageForm
        id="message-text"
        label={M.text}
        rows={3}
        sendLabel={M.send}
        doneText={M.sent}
        send={(text) => sendMessage(props.examId, bodyFor(text))}
      >
        <fieldset class="plain">
          <legend>{M.audience}</legend>
          {(
            [
              ['all', M.audienceAll],
              ['question', M.audienceQuestion],
              ['staff', M.audienceStaff],
              ['examinee', M.audienceExaminee],
            ] as const
          ).map(([value, label]) => (
            <label class="check" key={value}>
              <input
                type="radio"
                name="audience"
                value={value}
                checked={audience === value}
                onChange={() => setAudience(value)}
              />
              {label}
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
              {props.questions.map((q) => (
                <option key={q.questionId} value={q.questionId}>
                  {labelOf(q)}
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
              {props.rows.map((r) => (
                <option key={r.studentId} value={r.studentId}>
                  {r.name} ({r.studentId})
                </option>
              ))}
            </select>
          </div>
        )}
      </MessageForm>
    </section>
  );
}

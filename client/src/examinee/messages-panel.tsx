/**
 * Messages and the bathroom break during the exam, behind two toggle buttons next to the question
 * palette so that they take one row at 320 px until opened.
 *
 * Messages: the proctors' announcements, messages about a question and private messages, read with
 * GET /api/exam/messages when the panel mounts and whenever the event stream comes back (what was
 * missed while offline), and live from the stream's `message` events (`incoming`). Proctors'
 * messages not yet seen count as unread (the seen ones are kept in localStorage, so a reload does
 * not make them new again); new live ones are announced in a polite live region. The examinee's
 * questions (POST /api/exam/messages, optionally about the current question) go through a
 * persistent outbox (outbox.ts): with no network they wait on the device, marked "Waiting for the
 * connection", and go out on reconnect.
 *
 * Bathroom break: POST /api/exam/bathroom-break asks, a proctor decides (approved, later,
 * rejected) in the dashboard, and the decision arrives in the stream's `timeline` (`bathroom`);
 * POST /api/exam/bathroom-break/return says "I am back". Both need the network: a break is a
 * conversation with a proctor in the hall, not something to queue.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ErrorCode } from '../../../domain/errors.js';
import type { BathroomStatus } from '../../../domain/examinee-state.js';
import type { MonitorMessage } from '../../../domain/monitor.js';
import { t } from '../i18n';
import { callApi } from '../shared/api';
import type { StreamState } from '../shared/event-stream';
import { apiHeaders } from './api';
import { createOutbox, type Outbox } from './outbox';

/** A question to the proctors as POST /api/exam/messages takes it. */
export interface QuestionToProctors {
  text: string;
  questionId?: string;
}

/** The longest question the appliance takes. */
export const MAX_QUESTION_LENGTH = 2_000;
export const QUESTIONS_OUTBOX_KEY = 'exam-hall.outbox.questions';
const SEEN_KEY = 'exam-hall.messages-seen';

/** The persistent outbox of questions to the proctors. */
export function questionsOutbox(token: string): Outbox<QuestionToProctors> {
  return createOutbox<QuestionToProctors>({
    key: QUESTIONS_OUTBOX_KEY,
    token,
    send: (item, itemToken) =>
      callApi('/api/exam/messages', { method: 'POST', headers: apiHeaders(itemToken), json: item }),
  });
}

function readSeen(): Set<string> {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(SEEN_KEY) ?? '[]');
    return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  } catch {
    return new Set();
  }
}
function writeSeen(seen: Set<string>): void {
  try {
    localStorage.setItem(SEEN_KEY, JSON.stringify([...seen].slice(-500)));
  } catch {
    // Storage refused: they are seen for this page only.
  }
}

const fromProctors = (m: MonitorMessage) => m.from.role !== 'examinee';

export interface MessagesPanelProps {
  token: string;
  /** Where questions to the proctors wait for the network (questionsOutbox; owned by the exam session). */
  outbox: Outbox<QuestionToProctors>;
  online: boolean;
  stream: StreamState;
  /** Messages as they arrive on the event stream, oldest first. */
  incoming: readonly MonitorMessage[];
  /** The bathroom break as the stream last reported it. */
  bathroom: BathroomStatus | undefined;
  /** The question on screen, for "it is about question n". */
  current: { id: string; number: number } | undefined;
  /** The number of a question by its id, for "About question n". */
  questionNumber: (questionId: string) => number | undefined;
}

type Open = 'messages' | 'bathroom' | undefined;

export function MessagesPanel(props: MessagesPanelProps) {
  const { token } = props;
  const [open, setOpen] = useState<Open>(undefined);
  const [fetched, setFetched] = useState<MonitorMessage[]>([]);
  const [seen, setSeen] = useState<Set<string>>(readSeen);
  const [announcement, setAnnouncement] = useState('');
  const { outbox } = props;
  const [, setOutboxVersion] = useState(0);
  useEffect(() => outbox.subscribe(() => setOutboxVersion((v) => v + 1)), [outbox]);

  // What the appliance holds: at mount and each time the stream comes back (missed while offline).
  const live = props.stream === 'live';
  useEffect(() => {
    if (!live) return;
    let cancelled = false;
    void callApi<{ messages: MonitorMessage[] }>('/api/exam/messages', { headers: apiHeaders(token) }).then((r) => {
      if (!cancelled && r.ok) setFetched(r.body.messages);
    });
    return () => {
      cancelled = true;
    };
  }, [token, live]);

  // New live messages from the proctors are read out politely.
  const incoming = props.incoming;
  const announced = useRef(incoming.length);
  useEffect(() => {
    const fresh = incoming.slice(announced.current).filter(fromProctors);
    announced.current = incoming.length;
    if (fresh.length === 1) setAnnouncement(t.exam.messages.newMessage(fresh[0]!.text));
    else if (fresh.length > 1) setAnnouncement(t.exam.messages.newMessages(fresh.length));
  }, [incoming]);

  const messages = useMemo(() => {
    const byId = new Map<string, MonitorMessage>();
    for (const m of [...fetched, ...props.incoming]) byId.set(m.messageId, m);
    return [...byId.values()].sort((a, b) => a.at.localeCompare(b.at));
  }, [fetched, props.incoming]);
  const unread = messages.filter((m) => fromProctors(m) && !seen.has(m.messageId)).length;

  // Open, the panel shows every message: they are seen.
  useEffect(() => {
    if (open !== 'messages' || unread === 0) return;
    const next = new Set(seen);
    for (const m of messages) next.add(m.messageId);
    writeSeen(next);
    setSeen(next);
  }, [open, unread, messages, seen]);

  // A proctor's decision opens the bathroom panel and is read out.
  const lastBathroom = useRef(props.bathroom);
  useEffect(() => {
    const previous = lastBathroom.current;
    lastBathroom.current = props.bathroom;
    if (previous === undefined || props.bathroom === previous) return;
    if (props.bathroom === 'approved' || props.bathroom === 'later' || props.bathroom === 'rejected') {
      setOpen('bathroom');
      setAnnouncement(t.exam.bathroom[props.bathroom]);
    }
  }, [props.bathroom]);

  const toggle = (which: Exclude<Open, undefined>) => setOpen((o) => (o === which ? undefined : which));

  return (
    <div class="exam-tools">
      <div class="exam-tools-bar">
        <button
          type="button"
          class="secondary tool-toggle"
          aria-expanded={open === 'messages'}
          aria-controls="messages-panel"
          onClick={() => toggle('messages')}
        >
          {t.exam.messages.heading}
          {unread > 0 && <span class="unread-badge"> {t.exam.messages.unread(unread)}</span>}
        </button>
        <button
          type="button"
          class="secondary tool-toggle"
          aria-expanded={open === 'bathroom'}
          aria-controls="bathroom-panel"
          onClick={() => toggle('bathroom')}
        >
          {t.exam.bathroom.heading}
        </button>
      </div>
      <p class="visually-hidden" role="status" aria-live="polite" data-testid="messages-announcement">
        {announcement}
      </p>
      <div id="messages-panel" hidden={open !== 'messages'}>
        {open === 'messages' && <MessagesList {...props} messages={messages} />}
      </div>
      <div id="bathroom-panel" hidden={open !== 'bathroom'}>
        {open === 'bathroom' && <BathroomBreak token={token} online={props.online} status={props.bathroom} />}
      </div>
    </div>
  );
}

/** One line of the list: a message from the appliance, or a question of this device not (yet) listed there. */
interface Line {
  key: string;
  at: string;
  kind: 'announcement' | 'toYou' | 'yourQuestion';
  text: string;
  questionId: string | null;
  /** For this device's questions: where it is. */
  delivery?: string;
}

const timeOf = (iso: string) => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Intl.DateTimeFormat(t.lang, { hour: '2-digit', minute: '2-digit' }).format(ms) : '';
};

function MessagesList(
  props: MessagesPanelProps & {
    messages: MonitorMessage[];
  },
) {
  const { outbox, token } = props;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const listed = new Set(props.messages.map((m) => m.messageId));

  const lines: Line[] = props.messages.map((m) => ({
    key: m.messageId,
    at: m.at,
    kind: !fromProctors(m) ? 'yourQuestion' : m.audience === 'all' ? 'announcement' : 'toYou',
    text: m.text,
    questionId: m.questionId,
    ...(fromProctors(m) ? {} : { delivery: t.exam.messages.sent }),
  }));
  for (const s of outbox.settled()) {
    if (s.token !== token) continue;
    const messageId = (s.body as { messageId?: unknown } | undefined)?.messageId;
    if (typeof messageId === 'string' && listed.has(messageId)) continue;
    lines.push({
      key: s.id,
      at: new Date(s.at).toISOString(),
      kind: 'yourQuestion',
      text: s.item.text,
      questionId: s.item.questionId ?? null,
      delivery:
        s.outcome === 'sent'
          ? t.exam.messages.sent
          : t.exam.messages.notSent(t.errors[s.code as ErrorCode] ?? s.code ?? String(s.status)),
    });
  }
  for (const p of outbox.pending()) {
    if (p.token !== token) continue;
    lines.push({
      key: p.id,
      at: new Date(p.queuedAt).toISOString(),
      kind: 'yourQuestion',
      text: p.item.text,
      questionId: p.item.questionId ?? null,
      delivery: t.exam.messages.queued,
    });
  }
  lines.sort((a, b) => b.at.localeCompare(a.at));

  return (
    <section class="card stack tool-panel" aria-labelledby="messages-heading">
      <h3 id="messages-heading" ref={heading} tabIndex={-1}>
        {t.exam.messages.heading}
      </h3>
      {lines.length === 0 ? (
        <p class="muted">{t.exam.messages.none}</p>
      ) : (
        <ul class="message-list" aria-label={t.exam.messages.listLabel}>
          {lines.map((line) => {
            const number = line.questionId === null ? undefined : props.questionNumber(line.questionId);
            return (
              <li key={line.key} class={`message message-${line.kind}`}>
                <p class="message-meta">
                  <strong>{t.exam.messages[line.kind]}</strong>
                  {line.questionId !== null && (
                    <span> · {t.exam.messages.aboutQuestion(number ?? line.questionId)}</span>
                  )}
                  <span class="muted"> · {timeOf(line.at)}</span>
                </p>
                <p class="message-text">{line.text}</p>
                {line.delivery !== undefined && <p class="muted message-delivery">{line.delivery}</p>}
              </li>
            );
          })}
        </ul>
      )}
      <AskForm outbox={outbox} online={props.online} current={props.current} />
    </section>
  );
}

function AskForm(props: {
  outbox: Outbox<QuestionToProctors>;
  online: boolean;
  current: { id: string; number: number } | undefined;
}) {
  const [text, setText] = useState('');
  const [about, setAbout] = useState(false);
  const [error, setError] = useState('');
  // The question just sent, followed through the outbox for the status line.
  const [lastId, setLastId] = useState<string>();
  const field = useRef<HTMLTextAreaElement>(null);

  const send = (e: Event) => {
    e.preventDefault();
    const trimmed = text.trim();
    if (trimmed === '') {
      setError(t.exam.messages.empty);
      field.current?.focus();
      return;
    }
    if (trimmed.length > MAX_QUESTION_LENGTH) {
      setError(t.exam.messages.tooLong(MAX_QUESTION_LENGTH));
      field.current?.focus();
      return;
    }
    setError('');
    setLastId(
      props.outbox.add(about && props.current ? { text: trimmed, questionId: props.current.id } : { text: trimmed }),
    );
    setText('');
    setAbout(false);
  };

  let status = '';
  if (lastId !== undefined) {
    const settled = props.outbox.settled().find((s) => s.id === lastId);
    if (props.outbox.pending().some((p) => p.id === lastId)) status = t.exam.messages.queued;
    else if (settled?.outcome === 'sent') status = t.exam.messages.sent;
    else if (settled) status = t.exam.messages.notSent(t.errors[settled.code as ErrorCode] ?? settled.code ?? '');
  }

  return (
    <form onSubmit={send} noValidate class="ask-form" aria-labelledby="ask-heading">
      <h4 id="ask-heading">{t.exam.messages.askHeading}</h4>
      {!props.online && <p class="notice">{t.exam.messages.offline}</p>}
      <div class="field">
        <label for="ask-text">{t.exam.messages.askLabel}</label>
        <textarea
          id="ask-text"
          ref={field}
          rows={3}
          maxLength={MAX_QUESTION_LENGTH}
          aria-describedby="ask-hint ask-error"
          aria-invalid={error !== ''}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <p id="ask-hint" class="muted">
          {t.exam.messages.askHint}
        </p>
      </div>
      {props.current && (
        <label class="option">
          <input type="checkbox" checked={about} onChange={(e) => setAbout(e.currentTarget.checked)} />
          {t.exam.messages.aboutCurrent(props.current.number)}
        </label>
      )}
      <button type="submit">{t.exam.messages.send}</button>
      <p id="ask-error" role="alert" class="alert">
        {error}
      </p>
      <p role="status" class="muted">
        {status}
      </p>
    </form>
  );
}

function BathroomBreak(props: { token: string; online: boolean; status: BathroomStatus | undefined }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  // What the last answer said, until the stream says more.
  const [answered, setAnswered] = useState<{ status: BathroomStatus; streamed: BathroomStatus | undefined }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const status: BathroomStatus =
    answered !== undefined && answered.streamed === props.status ? answered.status : (props.status ?? 'none');

  const call = async (path: string) => {
    if (busy) return;
    setBusy(true);
    setError('');
    const result = await callApi<{ status: BathroomStatus }>(path, {
      method: 'POST',
      headers: apiHeaders(props.token),
    });
    setBusy(false);
    if (result.ok) setAnswered({ status: result.body.status, streamed: props.status });
    else if (result.code === 'network-error') setError(t.exam.bathroom.needsNetwork);
    else if (result.code === 'no-bathroom-request') setError(t.exam.bathroom.notApprovedYet);
    else setError(result.message);
  };

  const canAsk = status === 'none' || status === 'rejected' || status === 'returned';
  return (
    <section class="card stack tool-panel" aria-labelledby="bathroom-heading">
      <h3 id="bathroom-heading" ref={heading} tabIndex={-1}>
        {t.exam.bathroom.heading}
      </h3>
      <p role="status" class="bathroom-status" data-testid="bathroom-status" data-state={status}>
        {status === 'none' ? '' : t.exam.bathroom[status]}
      </p>
      {!props.online && <p class="notice">{t.exam.bathroom.needsNetwork}</p>}
      {canAsk && (
        <button type="button" aria-disabled={busy} onClick={() => void call('/api/exam/bathroom-break')}>
          {busy ? t.exam.bathroom.requesting : t.exam.bathroom.request}
        </button>
      )}
      {status === 'approved' && (
        <div class="stack">
          <button
            type="button"
            aria-disabled={busy}
            aria-describedby="bathroom-back-hint"
            onClick={() => void call('/api/exam/bathroom-break/return')}
          >
            {t.exam.bathroom.back}
          </button>
          <p id="bathroom-back-hint" class="muted">
            {t.exam.bathroom.backHint}
          </p>
        </div>
      )}
      <p role="alert" class="alert">
        {error}
      </p>
    </section>
  );
}

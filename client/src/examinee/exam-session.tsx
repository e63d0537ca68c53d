/**
 * The exam in progress on the examinee's device: one question at a time with a question palette
 * (answered, flagged, current), "x of y answered", the time left on the appliance's clock with
 * extensions applied as they arrive, a connection indicator, the review before submitting, the
 * automatic submission at time-up, and the receipt.
 *
 * The device is where the answers live (local-db.ts): every change is written to RxDB at once and
 * replicated to the appliance (answer-sync.ts) when the network allows. A Wi-Fi drop changes only
 * the indicator; a reload or a browser restart, also offline, comes back here with every answer
 * (locked first when the exam says so: lock-screen.tsx).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AnswerValue } from '../../../domain/answers.js';
import { isEmptyAnswer } from '../../../domain/answer-sheet.js';
import { clockText } from '../i18n/en';
import { t } from '../i18n';
import type { ApplianceClock } from '../shared/appliance-clock';
import { openEventStream, type StreamState } from '../shared/event-stream';
import type { ExamQuestion } from '../shared/exam-package';
import { apiHeaders } from './api';
import { saveClockOffset } from './attempt';
import { startAnswerSync, type SyncState } from './answer-sync';
import { QuestionCard } from './exam-view';
import type { AttemptDoc, LocalDb, SheetDoc } from './local-db';
import { ReceiptView } from './receipt-view';
import { seal, upload } from './submission';

export interface ExamSessionProps {
  token: string;
  db: LocalDb;
  attempt: AttemptDoc;
  clock: ApplianceClock;
}

/** What the timeline stream of GET /api/exam/events carries. */
interface Timeline {
  status: string;
  deadline: string;
  countdown: { serverNow: number };
}

/** Time left below which the timer turns to a warning, and then to urgent. */
const WARN_MS = 10 * 60_000;
const URGENT_MS = 60_000;

export function ExamSession(props: ExamSessionProps) {
  const { db, token, clock } = props;
  const id = props.attempt.id;
  const [attempt, setAttempt] = useState<AttemptDoc>(props.attempt);
  const [sheet, setSheet] = useState<SheetDoc>({ id, counter: 0, answers: {}, flagged: [] });
  const [sync, setSync] = useState<SyncState>(navigator.onLine ? 'synced' : 'offline');
  const [stream, setStream] = useState<StreamState>('connecting');
  const [now, setNow] = useState(() => clock.now() ?? Date.now());
  const [extendedBy, setExtendedBy] = useState(0);
  const [reviewing, setReviewing] = useState(false);
  const [uploadError, setUploadError] = useState('');
  const [online, setOnline] = useState(navigator.onLine);

  // The attempt and the sheet, as stored (also changes made by another tab or the replication).
  useEffect(() => {
    const a = db.attempts.findOne(id).$.subscribe((d) => d && setAttempt(d.toMutableJSON()));
    const s = db.sheets.findOne(id).$.subscribe((d) => d && setSheet(d.toMutableJSON()));
    return () => {
      a.unsubscribe();
      s.unsubscribe();
    };
  }, [db, id]);

  const finished = attempt.sealed !== null || attempt.receipt !== null;

  // Replication of the answers while the exam runs.
  useEffect(() => {
    if (finished) return;
    const replication = startAnswerSync(db, { token, sheetId: id });
    const sub = replication.state$.subscribe(setSync);
    return () => {
      sub.unsubscribe();
      void replication.stop();
    };
  }, [db, token, id, finished]);

  // The appliance's live stream: time (extensions), presence, messages.
  const deadlineRef = useRef(attempt.deadline);
  deadlineRef.current = attempt.deadline;
  useEffect(() => {
    if (attempt.receipt !== null) return;
    return openEventStream({
      url: '/api/exam/events',
      headers: apiHeaders(token),
      onState: setStream,
      onEvent: (event, data) => {
        const received = Date.now();
        if (event === 'timeline') {
          const timeline = data as Timeline;
          clock.observe(received, timeline.countdown.serverNow, received);
          saveClockOffset(clock.offset);
          const deadline = Date.parse(timeline.deadline);
          if (Number.isFinite(deadline) && deadline !== deadlineRef.current) {
            if (deadline > deadlineRef.current) setExtendedBy(deadline - deadlineRef.current);
            void db.attempts
              .findOne(id)
              .exec()
              .then((d) => d?.incrementalPatch({ deadline }));
          }
        } else if (event === 'ping') {
          const serverNow = (data as { serverNow?: number }).serverNow;
          if (typeof serverNow === 'number') {
            clock.observe(received, serverNow, received);
            saveClockOffset(clock.offset);
          }
        }
      },
    });
  }, [db, token, id, clock, attempt.receipt !== null]);

  useEffect(() => {
    const tick = setInterval(() => setNow(clock.now() ?? Date.now()), 250);
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      clearInterval(tick);
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, [clock]);

  const questions = useMemo(() => attempt.exam.sections.flatMap((s) => s.questions), [attempt.exam]);
  const answered = questions.filter((q) => {
    const v = sheet.answers[q.id];
    return v !== undefined && !isEmptyAnswer(v);
  }).length;
  const msLeft = attempt.deadline - now;

  // Sealing: manual (after the review) or automatic at time-up; the upload follows when it can.
  const sealNow = async (type: 'manual' | 'automatic') => {
    const doc = await db.attempts.findOne(id).exec();
    if (!doc || doc.sealed !== null || doc.receipt !== null) return;
    const current = (await db.sheets.findOne(id).exec())?.toMutableJSON() ?? sheet;
    await doc.incrementalPatch({
      sealed: seal(current, attempt, type, clock.now() ?? Date.now()),
      lock: null,
    });
  };
  useEffect(() => {
    if (!finished && msLeft <= 0) void sealNow('automatic');
  }, [finished, msLeft <= 0]);

  const uploading = useRef(false);
  const sendSealed = async () => {
    const sealed = attempt.sealed;
    if (!sealed || attempt.receipt !== null || uploading.current || !navigator.onLine) return;
    uploading.current = true;
    setUploadError('');
    const result = await upload(token, sealed);
    uploading.current = false;
    if (result.ok) {
      const doc = await db.attempts.findOne(id).exec();
      await doc?.incrementalPatch({ receipt: result.body.receipt });
    } else if (result.code !== 'network-error') {
      setUploadError(result.message);
    }
  };
  useEffect(() => {
    void sendSealed();
  }, [attempt.sealed?.sha256, attempt.receipt !== null, online]);

  if (attempt.receipt !== null) return <ReceiptView receipt={attempt.receipt} title={attempt.exam.title} />;

  if (attempt.sealed !== null) {
    return (
      <section aria-labelledby="sealed-heading" class="stack">
        <h2 id="sealed-heading">{t.session.sealedHeading}</h2>
        <p role="status" class="notice">
          {online ? t.session.sending : t.session.sealedOffline}
        </p>
        <p class="muted">{t.session.sealedFingerprint(attempt.sealed.sha256.slice(0, 16))}</p>
        {uploadError !== '' && (
          <>
            <p role="alert" class="alert">
              {uploadError}
            </p>
            <button type="button" onClick={() => void sendSealed()}>
              {t.session.tryAgain}
            </button>
          </>
        )}
      </section>
    );
  }

  const write = async (change: (s: SheetDoc) => SheetDoc) => {
    const doc = await db.sheets.findOne(id).exec();
    if (!doc) return;
    await doc.incrementalModify((d) => ({ ...change(d), counter: d.counter + 1 }));
  };
  const setAnswer = (questionId: string, value: AnswerValue | undefined) =>
    void write((d) => {
      const answers = { ...d.answers };
      if (value === undefined) delete answers[questionId];
      else answers[questionId] = value;
      return { ...d, answers };
    });
  const setFlag = (questionId: string, on: boolean) =>
    void write((d) => ({
      ...d,
      flagged: on ? [...new Set([...d.flagged, questionId])] : d.flagged.filter((f) => f !== questionId),
    }));

  const currentIndex = Math.max(
    0,
    questions.findIndex((q) => q.id === attempt.currentQuestionId),
  );
  const go = (index: number) => {
    const q = questions[index];
    if (!q) return;
    setReviewing(false);
    void db.attempts
      .findOne(id)
      .exec()
      .then((d) => d?.incrementalPatch({ currentQuestionId: q.id }));
  };
  const current = questions[currentIndex];

  return (
    <section aria-labelledby="exam-heading" class="exam">
      <h2 id="exam-heading" class="exam-title">
        {attempt.exam.title}
      </h2>
      <StatusBar
        msLeft={msLeft}
        answered={answered}
        total={questions.length}
        sync={sync}
        stream={stream}
        online={online}
        extendedBy={extendedBy}
      />
      <QuestionPalette
        questions={questions}
        current={reviewing ? -1 : currentIndex}
        answers={sheet.answers}
        flagged={sheet.flagged}
        onGo={go}
      />
      {reviewing ? (
        <Review
          questions={questions}
          answers={sheet.answers}
          flagged={sheet.flagged}
          onGo={go}
          onBack={() => setReviewing(false)}
          onSubmit={() => void sealNow('manual')}
        />
      ) : (
        current && (
          <>
            <QuestionCard
              key={current.id}
              question={current}
              number={currentIndex + 1}
              total={questions.length}
              value={sheet.answers[current.id]}
              flagged={sheet.flagged.includes(current.id)}
              token={token}
              onChange={(v) => setAnswer(current.id, v)}
              onFlag={(on) => setFlag(current.id, on)}
            />
            <div class="exam-nav">
              <button type="button" disabled={currentIndex === 0} onClick={() => go(currentIndex - 1)}>
                {t.session.previous}
              </button>
              {currentIndex < questions.length - 1 ? (
                <button type="button" onClick={() => go(currentIndex + 1)}>
                  {t.session.next}
                </button>
              ) : (
                <button type="button" class="primary" onClick={() => setReviewing(true)}>
                  {t.session.reviewAndSubmit}
                </button>
              )}
            </div>
            {currentIndex < questions.length - 1 && (
              <p>
                <button type="button" class="link-button" onClick={() => setReviewing(true)}>
                  {t.session.reviewAndSubmit}
                </button>
              </p>
            )}
          </>
        )
      )}
    </section>
  );
}

function StatusBar(props: {
  msLeft: number;
  answered: number;
  total: number;
  sync: SyncState;
  stream: StreamState;
  online: boolean;
  extendedBy: number;
}) {
  const { msLeft, answered, total } = props;
  const level = msLeft <= URGENT_MS ? 'urgent' : msLeft <= WARN_MS ? 'warn' : 'ok';
  const connection: 'online' | 'offline' | 'refused' | 'sending' =
    props.sync === 'refused'
      ? 'refused'
      : !props.online || props.sync === 'offline'
        ? 'offline'
        : props.sync === 'sending' || props.stream !== 'live'
          ? 'sending'
          : 'online';
  return (
    <div class="exam-bar" role="region" aria-label={t.session.statusRegion}>
      <div class={`timer timer-${level}`}>
        <span id="time-left-label" class="muted">
          {t.session.timeLeft}
        </span>
        <span role="timer" aria-labelledby="time-left-label" data-testid="time-left">
          {clockText(msLeft)}
        </span>
      </div>
      <div class="answered">
        <span data-testid="answered-count">{t.session.answeredOf(answered, total)}</span>
        <progress max={total} value={answered} aria-label={t.session.answeredOf(answered, total)} />
      </div>
      <div class={`connection connection-${connection}`} data-testid="connection" data-state={connection}>
        <span class="dot" aria-hidden="true" />
        <span>{t.session.connection[connection]}</span>
      </div>
      {props.extendedBy > 0 && (
        <p class="notice-ok extension" role="status" data-testid="extension-notice">
          {t.session.extended(Math.round(props.extendedBy / 60_000))}
        </p>
      )}
      {level === 'urgent' && (
        <p class="visually-hidden" role="alert">
          {t.session.lastMinute}
        </p>
      )}
    </div>
  );
}

function QuestionPalette(props: {
  questions: ExamQuestion[];
  current: number;
  answers: SheetDoc['answers'];
  flagged: string[];
  onGo: (index: number) => void;
}) {
  return (
    <nav aria-label={t.session.questionsNav} class="palette">
      <ol>
        {props.questions.map((q, i) => {
          const v = props.answers[q.id];
          const done = v !== undefined && !isEmptyAnswer(v);
          const flag = props.flagged.includes(q.id);
          return (
            <li key={q.id}>
              <button
                type="button"
                class={`palette-item${done ? ' answered' : ''}${flag ? ' flagged' : ''}`}
                aria-current={i === props.current ? 'step' : undefined}
                aria-label={t.session.paletteLabel(i + 1, done, flag)}
                onClick={() => props.onGo(i)}
              >
                {i + 1}
                {flag && <span aria-hidden="true">⚑</span>}
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function Review(props: {
  questions: ExamQuestion[];
  answers: SheetDoc['answers'];
  flagged: string[];
  onGo: (index: number) => void;
  onBack: () => void;
  onSubmit: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [confirming, setConfirming] = useState(false);
  const unanswered = props.questions
    .map((q, i) => ({ q, i }))
    .filter(({ q }) => {
      const v = props.answers[q.id];
      return v === undefined || isEmptyAnswer(v);
    });
  const flagged = props.questions.map((q, i) => ({ q, i })).filter(({ q }) => props.flagged.includes(q.id));
  const list = (items: { i: number }[]) => (
    <ul class="inline-list">
      {items.map(({ i }) => (
        <li key={i}>
          <button type="button" class="link-button" onClick={() => props.onGo(i)}>
            {t.exam.questionOf(i + 1, props.questions.length)}
          </button>
        </li>
      ))}
    </ul>
  );
  return (
    <section aria-labelledby="review-heading" class="card stack">
      <h3 id="review-heading" ref={heading} tabIndex={-1}>
        {t.session.reviewHeading}
      </h3>
      <p>{t.session.answeredOf(props.questions.length - unanswered.length, props.questions.length)}</p>
      {unanswered.length > 0 && (
        <div>
          <p>{t.session.unansweredList(unanswered.length)}</p>
          {list(unanswered)}
        </div>
      )}
      {flagged.length > 0 && (
        <div>
          <p>{t.session.flaggedList(flagged.length)}</p>
          {list(flagged)}
        </div>
      )}
      <p class="muted">{t.session.submitFinal}</p>
      {confirming ? (
        <div class="stack" role="group" aria-labelledby="confirm-text">
          <p id="confirm-text">
            <strong>{t.session.confirmQuestion}</strong>
          </p>
          <div class="exam-nav">
            <button type="button" onClick={() => setConfirming(false)}>
              {t.session.cancel}
            </button>
            <button type="button" class="primary" onClick={props.onSubmit}>
              {t.session.confirmSubmit}
            </button>
          </div>
        </div>
      ) : (
        <div class="exam-nav">
          <button type="button" onClick={props.onBack}>
            {t.session.backToQuestions}
          </button>
          <button type="button" class="primary" onClick={() => setConfirming(true)}>
            {t.session.submit}
          </button>
        </div>
      )}
    </section>
  );
}

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
 *
 * While the exam runs: the lock screen replaces the questions while the attempt is locked (a
 * reload with lockOnReload, leaving full screen with requireFullscreen); an exam that requires
 * full screen shows a "Go to full screen" step before the questions; integrity events are watched
 * and reported (integrity.ts); messages and the bathroom break sit behind two buttons under the
 * palette (messages-panel.tsx). Resume-code entries, integrity events and questions to the
 * proctors go through persistent outboxes, so they reach the appliance after a Wi-Fi drop.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AnswerValue } from '../../../domain/answers.js';
import { isEmptyAnswer } from '../../../domain/answer-sheet.js';
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import { clockText } from '../i18n/en';
import { t } from '../i18n';
import type { ApplianceClock } from '../shared/appliance-clock';
import { openEventStream, type StreamState } from '../shared/event-stream';
import type { ExamQuestion } from '../shared/exam-package';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import { saveClockOffset } from './attempt';
import { startAnswerSync, type SyncState } from './answer-sync';
import { QuestionCard } from './exam-view';
import { canFullscreen, integrityOutbox, isFullscreen, requestFullscreen, watchIntegrity } from './integrity';
import type { AttemptDoc, LocalDb, LockReason, SheetDoc } from './local-db';
import { LockScreen } from './lock-screen';
import { MessagesPanel, questionsOutbox, type BathroomStatus, type ExamMessage } from './messages-panel';
import { ReceiptView } from './receipt-view';
import { resumeOutbox } from './resume';
import { seal, upload } from './submission';

export interface ExamSessionProps {
  token: string;
  db: LocalDb;
  attempt: AttemptDoc;
  clock: ApplianceClock;
  /** This load came back to an attempt already on the device (a reload or a browser restart). */
  reloaded?: boolean;
}

/** What the timeline stream of GET /api/exam/events carries. */
interface Timeline {
  status: string;
  deadline: string;
  countdown: { serverNow: number };
  bathroom?: BathroomStatus;
}

/**
 * Whether the device can lock the exam: it holds resume-code triples (as attempt.ts on reload).
 * With every continuation code spent it still locks: skipping codes must not open the exam.
 */
const canLock = (attempt: Pick<AttemptDoc, 'triples'>) => attempt.triples.length > 0;

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
  const [fullscreen, setFullscreen] = useState(() => isFullscreen());
  const [fullscreenRefused, setFullscreenRefused] = useState(false);
  const [liveMessages, setLiveMessages] = useState<ExamMessage[]>([]);
  const [bathroom, setBathroom] = useState<BathroomStatus | undefined>(undefined);
  // Reports that must reach the appliance some time: kept on the device until they do.
  const [resumeReports] = useState(() => resumeOutbox(token));
  const [integrityReports] = useState(() => integrityOutbox(token));
  const [questionsToProctors] = useState(() => questionsOutbox(token));
  useEffect(
    () => () => {
      resumeReports.stop();
      integrityReports.stop();
      questionsToProctors.stop();
    },
    [resumeReports, integrityReports, questionsToProctors],
  );

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
  const attemptRef = useRef(attempt);
  attemptRef.current = attempt;

  /** Locks the exam on this device (persisted: a reload stays locked). */
  const lockNow = async (reason: LockReason) => {
    const doc = await db.attempts.findOne(id).exec();
    if (!doc || doc.lock !== null || doc.sealed !== null || doc.receipt !== null) return;
    await doc.incrementalPatch({ lock: { reason, at: clock.now() ?? Date.now() } });
  };

  // A reload during the exam is an integrity event too (reported once, when this load finds it).
  useEffect(() => {
    if (props.reloaded && !finished) integrityReports.report('reload');
  }, []);

  // Integrity events while the exam runs (not on the sealed screen or the receipt).
  useEffect(() => {
    if (finished) return;
    return watchIntegrity({ report: integrityReports.report });
  }, [finished, integrityReports]);

  // Full screen: leaving it during the exam locks the exam (watchIntegrity reports it).
  useEffect(() => {
    const changed = () => {
      const now = isFullscreen();
      setFullscreen(now);
      if (now) setFullscreenRefused(false);
      const a = attemptRef.current;
      const running = a.sealed === null && a.receipt === null;
      if (!now && running && a.requireFullscreen && a.lock === null && canLock(a)) void lockNow('fullscreen-exit');
    };
    document.addEventListener('fullscreenchange', changed);
    return () => document.removeEventListener('fullscreenchange', changed);
  }, [db, id]);

  const enterFullscreen = async () => {
    const ok = await requestFullscreen();
    setFullscreenRefused(!ok);
  };

  // Locked and online: challenges the appliance knows are used or locked are spent here too.
  const locked = attempt.lock !== null;
  useEffect(() => {
    if (!locked || !online) return;
    let cancelled = false;
    void callApi<{ triples: ResumeTriple[]; spent: string[] }>('/api/exam/resume-challenges', {
      headers: apiHeaders(token),
    }).then(async (r) => {
      if (cancelled || !r.ok || !Array.isArray(r.body.spent)) return;
      const more = r.body.spent;
      const doc = await db.attempts.findOne(id).exec();
      if (doc && more.some((c) => !doc.spent.includes(c))) {
        await doc.incrementalModify((d) => ({ ...d, spent: [...new Set([...d.spent, ...more])] }));
      }
    });
    return () => {
      cancelled = true;
    };
  }, [locked, online, token, db, id]);

  const spend = (challenge: string) =>
    void db.attempts
      .findOne(id)
      .exec()
      .then((d) =>
        d?.incrementalModify((a) => (a.spent.includes(challenge) ? a : { ...a, spent: [...a.spent, challenge] })),
      );
  const unlock = () => {
    // Still within the examinee's click or Enter: the browser allows full screen now.
    if (attemptRef.current.requireFullscreen && canFullscreen()) void enterFullscreen();
    void db.attempts
      .findOne(id)
      .exec()
      .then((d) => d?.incrementalPatch({ lock: null }));
  };

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
          if (timeline.bathroom !== undefined) setBathroom(timeline.bathroom);
          if (Number.isFinite(deadline) && deadline !== deadlineRef.current) {
            if (deadline > deadlineRef.current) setExtendedBy(deadline - deadlineRef.current);
            void db.attempts
              .findOne(id)
              .exec()
              .then((d) => d?.incrementalPatch({ deadline }));
          }
        } else if (event === 'message') {
          const message = data as ExamMessage;
          if (typeof message.messageId === 'string') setLiveMessages((list) => [...list, message]);
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

  const statusBar = (
    <StatusBar
      msLeft={msLeft}
      answered={answered}
      total={questions.length}
      sync={sync}
      stream={stream}
      online={online}
      extendedBy={extendedBy}
    />
  );

  if (attempt.lock !== null) {
    return (
      <section aria-labelledby="exam-heading" class="exam">
        <h2 id="exam-heading" class="exam-title">
          {attempt.exam.title}
        </h2>
        {statusBar}
        <LockScreen
          reason={attempt.lock.reason}
          triples={attempt.triples}
          spent={attempt.spent}
          onSpend={spend}
          onUnlocked={unlock}
          report={resumeReports.report}
        />
      </section>
    );
  }

  if (attempt.requireFullscreen && !fullscreen && canFullscreen()) {
    return (
      <section aria-labelledby="exam-heading" class="exam">
        <h2 id="exam-heading" class="exam-title">
          {attempt.exam.title}
        </h2>
        {statusBar}
        <FullscreenStep refused={fullscreenRefused} onEnter={() => void enterFullscreen()} />
      </section>
    );
  }

  return (
    <section aria-labelledby="exam-heading" class="exam">
      <h2 id="exam-heading" class="exam-title">
        {attempt.exam.title}
      </h2>
      {statusBar}
      {attempt.requireFullscreen && !canFullscreen() && <p class="notice">{t.exam.integrity.fullscreenUnsupported}</p>}
      <QuestionPalette
        questions={questions}
        current={reviewing ? -1 : currentIndex}
        answers={sheet.answers}
        flagged={sheet.flagged}
        onGo={go}
      />
      <MessagesPanel
        token={token}
        outbox={questionsToProctors}
        online={online}
        stream={stream}
        incoming={liveMessages}
        bathroom={bathroom}
        current={current && !reviewing ? { id: current.id, number: currentIndex + 1 } : undefined}
        questionNumber={(questionId) => {
          const i = questions.findIndex((q) => q.id === questionId);
          return i < 0 ? undefined : i + 1;
        }}
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
      <p class="muted integrity-notice" data-testid="integrity-notice">
        {t.exam.integrity.notice}
      </p>
    </section>
  );
}

/** The step before the questions of an exam taken in full screen (and after leaving it). */
function FullscreenStep(props: { refused: boolean; onEnter: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="card stack fullscreen-step" aria-labelledby="fullscreen-heading">
      <h3 id="fullscreen-heading" ref={heading} tabIndex={-1}>
        {t.exam.integrity.fullscreenRequired}
      </h3>
      <p class="muted">{t.exam.integrity.notice}</p>
      <button type="button" onClick={props.onEnter}>
        {t.exam.integrity.enterFullscreen}
      </button>
      <p role="alert" class="alert">
        {props.refused ? t.exam.integrity.fullscreenRefused : ''}
      </p>
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

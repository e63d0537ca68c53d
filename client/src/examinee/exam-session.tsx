/**
 * The exam in progress on the examinee's device: one question at a time with a question palette
 * (answered, flagged, current), "x of y answered", the time left on the appliance's clock with
 * extensions applied as they arrive, the answers' indicator, the review before submitting, the
 * automatic submission at time-up, and the receipt.
 *
 * The device is where the answers live: each field owns what is being typed and the writer puts
 * it behind into RxDB (use-answers.ts, answer-writer.ts), replicated to the appliance
 * (answer-sync.ts) when the network allows. A Wi-Fi drop changes only the indicator; a reload or
 * a browser restart, also offline, comes back here with every answer (locked first when the exam
 * says so: lock-screen.tsx).
 *
 * While the exam runs: the lock screen replaces the questions while the attempt is locked (a
 * reload with lockOnReload, leaving full screen with requireFullscreen); an exam that requires
 * full screen shows a "Go to full screen" step before the questions; integrity events are watched
 * and reported; messages and the bathroom break sit behind two buttons under the palette
 * (messages-panel.tsx). Each concern is a hook of its own (use-*.ts); this file puts the screens
 * together.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isEmptyAnswer } from '../../../domain/answer-sheet.js';
import { clockText } from '../i18n/en';
import { t } from '../i18n';
import type { ApplianceClock } from '../shared/appliance-clock';
import type { ExamineeQuestion } from '../shared/exam-package';
import { useFocusOnMount } from '../shared/focus';
import { useLatest } from '../shared/use-latest';
import { QuestionCard } from './exam-view';
import type { AnswerWriter } from './answer-writer';
import type { AttemptDoc, LocalDb, SheetDoc } from './local-db';
import { LockScreen } from './lock-screen';
import { MessagesPanel } from './messages-panel';
import { ReceiptView } from './receipt-view';
import { useAnswerSaving, useAnswerSheet, useAnswerWriter, type SavingState } from './use-answers';
import { currentSubmission } from './submission';
import { useAttempt, useAttemptActions, type AttemptActions } from './use-attempt';
import { useOnline } from '../shared/online';
import { useNow, useTimeUp } from './use-exam-clock';
import { useExamEvents } from './use-exam-events';
import {
  useFullscreenLock,
  useIntegrityWatch,
  useOutboxes,
  useReportLock,
  useSpentChallenges,
} from './use-exam-integrity';
import { useSubmission } from './use-submission';
import { useSnapshots } from './use-snapshots';
import { CameraStep, needsCameraStep, SnapshotNotice } from './snapshot-notice';

export interface ExamSessionProps {
  token: string;
  db: LocalDb;
  attempt: AttemptDoc;
  clock: ApplianceClock;
  /** This load came back to an attempt already on the device (a reload or a browser restart). */
  reloaded?: boolean;
  /** The exam moved to another device and the examinee wants it back here: sign in again. */
  onSignInAgain: () => void;
}

/** Time left below which the timer turns to a warning, and then to urgent. */
const WARN_MS = 10 * 60_000;
const URGENT_MS = 60_000;

export function ExamSession(props: ExamSessionProps) {
  const { db, token, clock } = props;
  const id = props.attempt.id;
  const attempt = useAttempt(db, props.attempt);
  const actions = useAttemptActions(db, id);
  const { sheet, loaded } = useAnswerSheet(db, id);
  const writer = useAnswerWriter(db, id);
  const online = useOnline();
  const outboxes = useOutboxes(token);
  const running = attempt.sealed === null && attempt.receipt === null && attempt.moved === null;
  const timeUp = useTimeUp(clock, attempt.deadline);
  /** The appliance says the exam went on on another device: this one only shows its answers. */
  const refused = (code: string) => {
    if (code !== 'session-moved') return;
    void actions.update((a) =>
      a.moved !== null ? undefined : { moved: { at: clock.now() ?? Date.now(), message: t.session.moved } },
    );
  };
  const saving = useAnswerSaving({
    db,
    token,
    id,
    writer,
    sheetCounter: sheet.counter,
    running,
    online,
    onRefused: refused,
  });
  const [reviewing, setReviewing] = useState(false);
  // Reopened by a proctor: back to the questions, not the review the examinee submitted from.
  const reopened = useReopenedByProctor(token, attempt, actions, () => setReviewing(false));
  const events = useExamEvents({
    token,
    clock,
    // Also under the receipt: a proctor may remove the submission and reopen the exam.
    enabled: attempt.moved === null,
    deadline: attempt.deadline,
    onDeadline: (deadline) => void actions.setDeadline(deadline),
    onSubmission: reopened.follow,
    onOther: (event, data) => event === 'session' && refused((data as { code?: string }).code ?? ''),
  });
  useIntegrityWatch(outboxes.integrity.report, { running, reloaded: props.reloaded ?? false });
  const snapshots = useSnapshots({ token, config: events.proctoring, running });
  const fullscreen = useFullscreenLock(attempt, actions, () => clock.now() ?? Date.now());
  useSpentChallenges({ locked: attempt.lock !== null, online, token, actions });
  useReportLock({ lock: attempt.lock, online, token });
  const submission = useSubmission({
    db,
    token,
    attempt,
    actions,
    writer,
    clock,
    online,
    timeUp,
    onRefused: refused,
  });

  const questions = useMemo(() => attempt.exam.sections.flatMap((s) => s.questions), [attempt.exam]);
  const answered = questions.filter((q) => {
    const v = sheet.answers[q.id];
    return v !== undefined && !isEmptyAnswer(v);
  }).length;

  if (attempt.receipt !== null) return <ReceiptView receipt={attempt.receipt} title={attempt.exam.title} />;

  if (attempt.moved !== null) {
    return (
      <MovedScreen
        questions={questions}
        sheet={sheet}
        loaded={loaded}
        writer={writer}
        token={token}
        onSignInAgain={props.onSignInAgain}
      />
    );
  }

  if (attempt.sealed !== null) {
    return (
      <section aria-labelledby="sealed-heading" class="stack">
        <h2 id="sealed-heading">{t.session.sealedHeading}</h2>
        <p role="status" class="notice">
          {online ? t.session.sending : t.session.sealedOffline}
        </p>
        <p class="muted">{t.session.sealedFingerprint(attempt.sealed.sha256.slice(0, 16))}</p>
        {submission.uploadError !== '' && (
          <>
            <p role="alert" class="alert">
              {submission.uploadError}
            </p>
            <button type="button" onClick={submission.retry}>
              {t.session.tryAgain}
            </button>
          </>
        )}
      </section>
    );
  }

  const currentIndex = Math.max(
    0,
    questions.findIndex((q) => q.id === attempt.currentQuestionId),
  );
  const go = (index: number) => {
    const q = questions[index];
    if (!q) return;
    setReviewing(false);
    // Leaving a question writes what its field holds at once.
    void writer.flush();
    void actions.showQuestion(q.id);
  };
  const current = questions[currentIndex];
  /** To the review: what the field holds is written first. */
  const review = () => {
    void writer.flush();
    setReviewing(true);
  };

  const statusBar = (
    <StatusBar
      clock={clock}
      deadline={attempt.deadline}
      answered={answered}
      total={questions.length}
      saving={saving}
      extendedBy={events.extendedBy}
    />
  );
  const heading = (
    <h2 id="exam-heading" class="exam-title">
      {attempt.exam.title}
    </h2>
  );

  if (attempt.lock !== null) {
    return (
      <section aria-labelledby="exam-heading" class="exam">
        {heading}
        {statusBar}
        <LockScreen
          reason={attempt.lock.reason}
          triples={attempt.triples}
          spent={attempt.spent}
          onSpend={(challenge) => void actions.spend([challenge])}
          onUnlocked={() => {
            // Still within the examinee's click or Enter: the browser allows full screen now.
            if (attempt.requireFullscreen && fullscreen.supported) void fullscreen.enter();
            void actions.unlock();
          }}
          report={outboxes.resume.report}
        />
      </section>
    );
  }

  if (needsCameraStep(snapshots)) {
    return (
      <section aria-labelledby="exam-heading" class="exam">
        {heading}
        {statusBar}
        <CameraStep view={snapshots} />
      </section>
    );
  }

  if (attempt.requireFullscreen && !fullscreen.fullscreen && fullscreen.supported) {
    return (
      <section aria-labelledby="exam-heading" class="exam">
        {heading}
        {statusBar}
        <FullscreenStep refused={fullscreen.refused} onEnter={() => void fullscreen.enter()} />
      </section>
    );
  }

  return (
    <section aria-labelledby="exam-heading" class="exam">
      {heading}
      {statusBar}
      <div role="status">
        {reopened.shown && (
          <p class="notice" data-testid="reopened-notice">
            {t.session.reopened}
          </p>
        )}
      </div>
      <SnapshotNotice view={snapshots} />
      {attempt.requireFullscreen && !fullscreen.supported && (
        <p class="notice">{t.exam.integrity.fullscreenUnsupported}</p>
      )}
      <QuestionPalette
        questions={questions}
        current={reviewing ? -1 : currentIndex}
        answers={sheet.answers}
        flagged={sheet.flagged}
        onGo={go}
      />
      <MessagesPanel
        token={token}
        outbox={outboxes.questions}
        online={online}
        stream={events.stream}
        incoming={events.messages}
        bathroom={events.bathroom}
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
          onSubmit={() => void submission.sealNow('manual')}
        />
      ) : (
        current &&
        // The fields start from the stored sheet: never shown before it has been read.
        loaded && (
          <>
            <QuestionCard
              key={current.id}
              question={current}
              number={currentIndex + 1}
              total={questions.length}
              sheet={sheet}
              writer={writer}
              token={token}
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
                <button type="button" class="primary" onClick={review}>
                  {t.session.reviewAndSubmit}
                </button>
              )}
            </div>
            {currentIndex < questions.length - 1 && (
              <p>
                <button type="button" class="link-button" onClick={review}>
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

/**
 * The receipt follows the appliance: when the submission it is for no longer counts (a proctor
 * removed it), the exam reopens on this device with its answers (the sheet replicates again and
 * merges with the appliance's copy), with a notice; no sign-in, no download. The stream's word is
 * checked with the appliance first, so that an event older than the receipt cannot undo it.
 */
function useReopenedByProctor(token: string, attempt: AttemptDoc, actions: AttemptActions, onReopened: () => void) {
  const [shown, setShown] = useState(false);
  const receiptId = attempt.receipt?.payload.submissionId;
  const follow = useLatest((counting: string | null) => {
    if (receiptId === undefined || counting !== null) return;
    void currentSubmission(token).then(async (current) => {
      if (current.ok || current.code !== 'not-found') return;
      await actions.update((a) =>
        a.receipt?.payload.submissionId === receiptId ? { receipt: null, sealed: null, lock: null } : undefined,
      );
      setShown(true);
      onReopened();
    });
  });
  return { shown, follow: (counting: string | null) => follow.current(counting) };
}

/** The exam went on on another device: a blocking screen, with this device's answers read-only. */
function MovedScreen(props: {
  questions: ExamineeQuestion[];
  sheet: SheetDoc;
  loaded: boolean;
  writer: AnswerWriter;
  token: string;
  onSignInAgain: () => void;
}) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const { questions } = props;
  return (
    <section aria-labelledby="moved-heading" class="stack" data-testid="moved">
      <h2 id="moved-heading" ref={heading} tabIndex={-1}>
        {t.session.movedHeading}
      </h2>
      <p class="alert" role="alert">
        {t.session.moved}
      </p>
      <p>
        <button type="button" onClick={props.onSignInAgain}>
          {t.session.movedSignIn}
        </button>
      </p>
      <p class="muted">{t.session.movedSignInHint}</p>
      {props.loaded && (
        <>
          <p>{t.session.movedAnswers}</p>
          {questions.map((q, i) => (
            <QuestionCard
              key={q.id}
              question={q}
              number={i + 1}
              total={questions.length}
              sheet={props.sheet}
              writer={props.writer}
              token={props.token}
              disabled
            />
          ))}
        </>
      )}
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
  clock: ApplianceClock;
  deadline: number;
  answered: number;
  total: number;
  saving: SavingState;
  extendedBy: number;
}) {
  const { answered, total, saving } = props;
  // The timer ticks here, so that the rest of the exam screen does not render four times a second.
  const msLeft = props.deadline - useNow(props.clock);
  const level = msLeft <= URGENT_MS ? 'urgent' : msLeft <= WARN_MS ? 'warn' : 'ok';
  const connection = saving === 'saved' ? 'online' : saving === 'saving' ? 'sending' : saving;
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
  questions: ExamineeQuestion[];
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
  questions: ExamineeQuestion[];
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

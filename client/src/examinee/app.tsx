/**
 * The examinee app: sign in, then the lobby with the exam, a countdown to the official start and
 * the download; at the start the exam opens (exam-start.tsx) and runs on the device
 * (exam-session.tsx) until the receipt. A load that finds an exam in progress on this device goes
 * straight back to it, with or without network (attempt.ts).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { ApplianceClock } from '../shared/appliance-clock';
import { useFocusOnMount } from '../shared/focus';
import { useLatest } from '../shared/use-latest';
import type { ExamContent } from '../shared/exam-package';
import { indexedDbPackageStore, memoryPackageStore, type PackageStore } from '../shared/package-store';
import { SecureContextBanner } from '../shared/secure-context-banner';
import { SignInForm, type SignInField } from '../shared/sign-in-form';
import { examInfo, signIn, type ExamInfo } from './api';
import { deviceId, savedSessionToken, saveSessionToken } from './device';
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import { fetchTriples, openAttempt, resumeAttempt, savedClockOffset, saveClockOffset } from './attempt';
import { ExamSession } from './exam-session';
import { ExamStart } from './exam-start';
import type { AttemptDoc, LocalDb } from './local-db';

type Screen =
  | { name: 'loading' }
  | { name: 'sign-in'; error?: string }
  | { name: 'waiting'; token: string }
  | { name: 'lobby'; token: string; info: ExamInfo }
  | { name: 'exam'; token: string; db: LocalDb; attempt: AttemptDoc; reloaded: boolean };

/** Refusals after which the stored session is of no use. */
const SESSION_GONE = new Set(['unauthenticated', 'session-invalid']);
/** How often the lobby asks the appliance again (status, schedule, and a fresh clock offset). */
const LOBBY_REFRESH_MS = 30_000;

const SIGN_IN_FIELDS: readonly SignInField[] = [
  { name: 'studentId', label: t.signIn.studentId, autocomplete: 'off', upperCase: true },
  {
    name: 'accessCode',
    label: t.signIn.accessCode,
    hint: t.signIn.accessCodeHint,
    autocomplete: 'off',
    upperCase: true,
  },
];

export function ExamineeApp() {
  const [clock] = useState(() => {
    const c = new ApplianceClock({ now: () => Date.now() });
    const offset = savedClockOffset();
    if (offset !== undefined) c.restore(offset);
    return c;
  });
  /** The resume-code triples, fetched in the lobby so that a start without network has them. */
  const triples = useRef<ResumeTriple[]>([]);
  const [screen, setScreen] = useState<Screen>({ name: 'loading' });
  const [packages] = useState<PackageStore>(() =>
    typeof indexedDB === 'undefined' ? memoryPackageStore() : indexedDbPackageStore(),
  );

  /** Where a stored or fresh session leads: the lobby, the approval wait, or back to sign-in. */
  const enter = async (token: string) => {
    const result = await examInfo(token, clock);
    if (result.ok) {
      saveClockOffset(clock.offset);
      setScreen({ name: 'lobby', token, info: result.body });
      void fetchTriples(token).then((found) => {
        if (found.length > 0) triples.current = found;
      });
    } else if (result.code === 'session-pending-approval') {
      setScreen({ name: 'waiting', token });
    } else {
      if (SESSION_GONE.has(result.code)) saveSessionToken(undefined);
      setScreen({ name: 'sign-in', error: result.message });
    }
  };

  // At start: a session kept on this device goes on where it was.
  const start = useLatest(() => {
    const token = savedSessionToken();
    if (token === undefined) {
      setScreen({ name: 'sign-in' });
      return;
    }
    // An exam in progress (or sealed, or with its receipt) on this device comes first: it needs no network.
    void resumeAttempt(clock.now() ?? Date.now()).then(
      (found) => (found ? setScreen({ name: 'exam', token, ...found, reloaded: true }) : enter(token)),
      () => enter(token),
    );
  });
  useEffect(() => start.current(), [start]);

  const onSignIn = async (studentId: string, accessCode: string): Promise<string | undefined> => {
    const result = await signIn({ studentId, accessCode, deviceId: deviceId() });
    if (!result.ok) return result.message;
    saveSessionToken(result.body.token);
    if (result.body.waitingForApproval) setScreen({ name: 'waiting', token: result.body.token });
    else await enter(result.body.token);
    return undefined;
  };

  return (
    <>
      <header class="page-header">
        <h1>{t.app.name}</h1>
      </header>
      <main class="page">
        <SecureContextBanner detail={t.signIn.insecureConnection} />
        {screen.name === 'loading' && <p>{t.common.loading}</p>}
        {screen.name === 'sign-in' && (
          <SignInForm
            id="sign-in"
            heading={t.signIn.heading}
            intro={t.signIn.intro}
            fields={SIGN_IN_FIELDS}
            submitLabel={t.signIn.submit}
            busyLabel={t.signIn.submitting}
            initialError={screen.error}
            onSubmit={(v) => onSignIn(v.studentId ?? '', v.accessCode ?? '')}
          />
        )}
        {screen.name === 'waiting' && <Waiting onCheck={() => enter(screen.token)} />}
        {screen.name === 'lobby' && (
          <Lobby
            token={screen.token}
            info={screen.info}
            clock={clock}
            packages={packages}
            onOpened={(exam) =>
              void openAttempt({
                token: screen.token,
                exam,
                studentId: screen.info.examinee.studentId,
                deadline: Date.parse(screen.info.schedule.deadline),
                triples: triples.current.length > 0 ? triples.current : undefined,
              }).then((opened) => setScreen({ name: 'exam', token: screen.token, ...opened, reloaded: false }))
            }
            refresh={async () => {
              if (!navigator.onLine) return;
              const result = await examInfo(screen.token, clock);
              if (result.ok) setScreen({ name: 'lobby', token: screen.token, info: result.body });
              else if (SESSION_GONE.has(result.code)) {
                saveSessionToken(undefined);
                setScreen({ name: 'sign-in', error: result.message });
              }
              // Otherwise (offline, a hiccup) keep counting on the last offset.
            }}
          />
        )}
        {screen.name === 'exam' && (
          <ExamSession
            token={screen.token}
            db={screen.db}
            attempt={screen.attempt}
            clock={clock}
            reloaded={screen.reloaded}
          />
        )}
      </main>
    </>
  );
}

function Waiting(props: { onCheck: () => Promise<void> }) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [busy, setBusy] = useState(false);
  return (
    <section aria-labelledby="waiting-heading">
      <h2 id="waiting-heading" ref={heading} tabIndex={-1}>
        {t.signIn.heading}
      </h2>
      <p role="status">{t.signIn.waitingForApproval}</p>
      <button
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          await props.onCheck();
          setBusy(false);
        }}
      >
        {t.signIn.checkAgain}
      </button>
    </section>
  );
}

/** Whole seconds until `target` on the appliance's clock (what the countdown shows). */
function secondsUntil(target: number, clock: ApplianceClock): number {
  const now = clock.now();
  return now === undefined ? 0 : Math.max(0, Math.ceil((target - now) / 1000));
}

function Lobby(props: {
  token: string;
  info: ExamInfo;
  clock: ApplianceClock;
  packages: PackageStore;
  onOpened: (exam: ExamContent) => void;
  refresh: () => Promise<void>;
}) {
  const { info, clock, refresh } = props;
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const start = Date.parse(info.schedule.officialStart);
  const [secondsLeft, setSecondsLeft] = useState(() => secondsUntil(start, clock));

  useEffect(() => {
    // Ticks more often than once a second so that the display never skips a second.
    const tick = setInterval(() => setSecondsLeft(secondsUntil(start, clock)), 250);
    return () => clearInterval(tick);
  }, [start, clock]);

  const latestRefresh = useRef(refresh);
  latestRefresh.current = refresh;
  useEffect(() => {
    const again = setInterval(() => void latestRefresh.current(), LOBBY_REFRESH_MS);
    return () => clearInterval(again);
  }, []);

  const startTime = new Intl.DateTimeFormat(t.lang, { hour: '2-digit', minute: '2-digit' }).format(start);
  return (
    <section aria-labelledby="lobby-heading">
      <p class="muted">{t.lobby.heading}</p>
      <h2 id="lobby-heading" ref={heading} tabIndex={-1}>
        {info.exam.title}
      </h2>
      <p>{t.lobby.signedInAs(info.examinee.name, info.examinee.studentId)}</p>
      <div class="card">
        {secondsLeft > 0 ? (
          <>
            <p id="countdown-label">{t.lobby.startsInLabel}</p>
            <p class="countdown" role="timer" aria-labelledby="countdown-label" data-testid="countdown">
              {t.lobby.startsIn(secondsLeft * 1000)}
            </p>
          </>
        ) : (
          <p class="countdown" role="status">
            {t.lobby.started}
          </p>
        )}
        <p>
          {t.lobby.startsAt(startTime)} · {t.lobby.duration(info.exam.durationMinutes)}
        </p>
        <p data-testid="downloads-left">{t.lobby.downloadsLeft(info.downloads.left, info.downloads.max)}</p>
      </div>
      <ExamStart
        token={props.token}
        info={info}
        store={props.packages}
        now={() => clock.now()}
        started={secondsLeft === 0}
        refresh={refresh}
        onOpened={props.onOpened}
      />
      <p class="muted">{t.lobby.applianceTimeNote}</p>
    </section>
  );
}

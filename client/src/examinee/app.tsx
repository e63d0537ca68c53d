/**
 * The examinee app: sign in, then the lobby with the exam, a countdown to the official start and
 * the download; at the start the exam opens (exam-start.tsx) and runs on the device
 * (exam-session.tsx) until the receipt. A load that finds an exam in progress on this device goes
 * straight back to it, with or without network (attempt.ts).
 *
 * With no network, a device that holds a session opens the offline lobby: what the lobby showed
 * last (lobby-store.ts), the countdown on the last measured clock offset, an "offline" notice, and
 * the exam-password start when the package is on the device (or, when it is not, that the
 * download needs the network). When the network is back the lobby asks the appliance again by
 * itself; a session the appliance no longer knows goes to sign-in with its message.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { ApplianceClock } from '../shared/appliance-clock';
import { useFocusOnMount } from '../shared/focus';
import { useLatest } from '../shared/use-latest';
import type { ExamForExaminees } from '../shared/exam-package';
import { indexedDbPackageStore, memoryPackageStore, type PackageStore } from '../shared/package-store';
import { useOnline } from '../shared/online';
import { SecureContextBanner } from '../shared/secure-context-banner';
import { SignInForm, type SignInField } from '../shared/sign-in-form';
import { examInfo, sessionStatus, signIn, type ExamInfo } from './api';
import { deviceId, savedSessionToken, saveSessionToken } from './device';
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import {
  fetchTriples,
  forgetCurrentAttempt,
  openAttempt,
  resumeAttempt,
  savedClockOffset,
  saveClockOffset,
} from './attempt';
import { ExamSession } from './exam-session';
import { ExamStart } from './exam-start';
import { forgetLobby, saveLobby, saveLobbyTriples, savedLobby } from './lobby-store';
import type { AttemptDoc, LocalDb } from './local-db';
import { SnapshotConsent } from './snapshot-notice';

type Screen =
  | { name: 'loading' }
  | { name: 'sign-in'; error?: string }
  | { name: 'waiting'; token: string }
  /** `offline`: the appliance cannot be reached; `info` is what the lobby showed last. */
  | { name: 'lobby'; token: string; info: ExamInfo; offline: boolean }
  /** A session on the device, no network, and nothing kept of its lobby (so no exam either). */
  | { name: 'no-connection'; token: string }
  | { name: 'exam'; token: string; db: LocalDb; attempt: AttemptDoc; reloaded: boolean };

/** Refusals after which the stored session is of no use. */
const SESSION_GONE = new Set(['unauthenticated', 'session-invalid', 'session-expired', 'session-moved']);
/** How often a device waiting for a proctor's approval asks whether it came. */
const APPROVAL_POLL_MS = 3_000;
/** How often the lobby asks the appliance again (status, schedule, and a fresh clock offset). */
const LOBBY_REFRESH_MS = 30_000;
/** How often to try again while the appliance cannot be reached although the browser says it is online. */
const OFFLINE_RETRY_MS = 5_000;

const timeText = (ms: number) => new Intl.DateTimeFormat(t.lang, { hour: '2-digit', minute: '2-digit' }).format(ms);

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
  const shown = useRef(screen);
  shown.current = screen;
  const [packages] = useState<PackageStore>(() =>
    typeof indexedDB === 'undefined' ? memoryPackageStore() : indexedDbPackageStore(),
  );

  const online = useOnline();

  /** The lobby from a fresh answer of the appliance; kept on the device for an offline reload. */
  const showLobby = (token: string, info: ExamInfo, withTriples: boolean) => {
    saveClockOffset(clock.offset);
    saveLobby(token, info);
    setScreen({ name: 'lobby', token, info, offline: false });
    if (!withTriples) return;
    void fetchTriples(token).then((found) => {
      if (found.length === 0) return;
      triples.current = found;
      saveLobbyTriples(token, found);
    });
  };

  /** No network: the lobby as it was last shown under this session, or that the network is needed. */
  const enterOffline = (token: string) => {
    const kept = savedLobby(token);
    if (!kept) {
      setScreen({ name: 'no-connection', token });
      return;
    }
    if (kept.triples.length > 0) triples.current = kept.triples;
    setScreen({ name: 'lobby', token, info: kept.info, offline: true });
  };

  /** The appliance no longer knows this session: forget it (and its lobby) and sign in again. */
  const sessionGone = (message: string) => {
    saveSessionToken(undefined);
    forgetLobby();
    triples.current = [];
    setScreen({ name: 'sign-in', error: message });
  };

  /** Where a stored or fresh session leads: the lobby (online or offline), the approval wait, or back to sign-in. */
  const enter = async (token: string) => {
    // No network: no request (and no failed request in the console); the device shows what it kept.
    if (!navigator.onLine) return enterOffline(token);
    const result = await examInfo(token, clock);
    if (result.ok) showLobby(token, result.body, true);
    else if (result.code === 'network-error') enterOffline(token);
    else if (result.code === 'session-pending-approval') setScreen({ name: 'waiting', token });
    else if (SESSION_GONE.has(result.code)) sessionGone(result.message);
    else setScreen({ name: 'sign-in', error: result.message });
  };

  /**
   * The lobby asks the appliance again (every so often, and when the network comes back). Its
   * answer only counts while the lobby of that session is still on screen (the exam may have
   * opened meanwhile).
   */
  const refreshLobby = async (token: string) => {
    const stillLobby = (s: Screen): s is Extract<Screen, { name: 'lobby' }> => s.name === 'lobby' && s.token === token;
    const markOffline = () => setScreen((s) => (stillLobby(s) && !s.offline ? { ...s, offline: true } : s));
    if (!navigator.onLine) return markOffline();
    const result = await examInfo(token, clock);
    if (!stillLobby(shown.current)) return;
    if (result.ok) showLobby(token, result.body, triples.current.length === 0);
    else if (result.code === 'network-error') markOffline();
    else if (result.code === 'session-pending-approval') setScreen({ name: 'waiting', token });
    else if (SESSION_GONE.has(result.code)) sessionGone(result.message);
    // Otherwise (a hiccup) keep what is shown, counting on the last offset.
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

  /**
   * A device waiting for a proctor's approval asks whether it came: approved, the appliance hands
   * it its session and it goes on to the lobby (and the exam) with no second sign-in; refused,
   * back to sign-in with the reason.
   */
  const checkApproval = async (token: string) => {
    const stillWaiting = () => shown.current.name === 'waiting' && shown.current.token === token;
    const result = await sessionStatus(token);
    if (!stillWaiting()) return;
    if (result.ok) {
      if (result.body.token === undefined) return;
      saveSessionToken(result.body.token);
      await enter(result.body.token);
    } else if (SESSION_GONE.has(result.code)) sessionGone(result.message);
  };

  const onSignIn = async (studentId: string, accessCode: string): Promise<string | undefined> => {
    const result = await signIn({ studentId, accessCode, deviceId: deviceId() });
    if (!result.ok)
      return result.code === 'network-error' && !navigator.onLine ? t.offline.signInNeedsNetwork : result.message;
    saveSessionToken(result.body.token);
    triples.current = [];
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
          <div role="status">
            {!online && (
              <p class="notice offline-notice" data-testid="offline-notice">
                {t.offline.signInNeedsNetwork}
              </p>
            )}
          </div>
        )}
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
        {screen.name === 'waiting' && <Waiting onCheck={() => checkApproval(screen.token)} />}
        {screen.name === 'no-connection' && <NoConnection onRetry={() => enter(screen.token)} />}
        {screen.name === 'lobby' && (
          <Lobby
            token={screen.token}
            info={screen.info}
            offline={screen.offline}
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
            refresh={() => refreshLobby(screen.token)}
          />
        )}
        {screen.name === 'exam' && (
          <ExamSession
            token={screen.token}
            db={screen.db}
            attempt={screen.attempt}
            clock={clock}
            reloaded={screen.reloaded}
            onSignInAgain={() => {
              // The attempt stays on the device: signed in and approved again, it continues here.
              forgetCurrentAttempt();
              sessionGone('');
            }}
          />
        )}
      </main>
    </>
  );
}

function Waiting(props: { onCheck: () => Promise<void> }) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [busy, setBusy] = useState(false);
  const check = useLatest(props.onCheck);
  useEffect(() => {
    // The approval comes from a proctor at any moment: ask every few seconds, and when the network is back.
    const again = () => void check.current();
    const timer = setInterval(() => navigator.onLine && again(), APPROVAL_POLL_MS);
    addEventListener('online', again);
    return () => {
      clearInterval(timer);
      removeEventListener('online', again);
    };
  }, [check]);
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

/**
 * A session on this device but no network and nothing kept of the exam: says that seeing and
 * downloading the exam needs the network, and carries on by itself when it is back.
 */
function NoConnection(props: { onRetry: () => Promise<void> }) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [busy, setBusy] = useState(false);
  const latest = useRef(props.onRetry);
  latest.current = props.onRetry;
  const busyRef = useRef(false);
  const retry = async () => {
    if (busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    try {
      await latest.current();
    } finally {
      busyRef.current = false;
      setBusy(false);
    }
  };
  const retryRef = useRef(retry);
  retryRef.current = retry;
  useEffect(() => {
    const again = () => void retryRef.current();
    // A quiet retry while the browser says it is online (the appliance may be back any moment).
    const timer = setInterval(() => navigator.onLine && again(), OFFLINE_RETRY_MS);
    addEventListener('online', again);
    return () => {
      clearInterval(timer);
      removeEventListener('online', again);
    };
  }, []);
  return (
    <section aria-labelledby="no-connection-heading" class="stack">
      <h2 id="no-connection-heading" ref={heading} tabIndex={-1}>
        {t.offline.noCopyHeading}
      </h2>
      <p class="notice" role="status">
        {t.offline.noCopy}
      </p>
      <button type="button" disabled={busy} onClick={() => void retry()}>
        {busy ? t.offline.trying : t.offline.tryAgain}
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
  /** The appliance cannot be reached: `info` is what it said last. */
  offline: boolean;
  clock: ApplianceClock;
  packages: PackageStore;
  onOpened: (exam: ExamForExaminees) => void;
  refresh: () => Promise<void>;
}) {
  const { info, clock, refresh, offline } = props;
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
    // Offline, try again sooner (no request is made while the browser says it is offline).
    const again = setInterval(() => void latestRefresh.current(), offline ? OFFLINE_RETRY_MS : LOBBY_REFRESH_MS);
    return () => clearInterval(again);
  }, [offline]);
  useEffect(() => {
    // The network comes back: ask the appliance at once; it goes: say so at once.
    const now = () => void latestRefresh.current();
    addEventListener('online', now);
    addEventListener('offline', now);
    return () => {
      removeEventListener('online', now);
      removeEventListener('offline', now);
    };
  }, []);

  const startTime = timeText(start);
  return (
    <section aria-labelledby="lobby-heading">
      <p class="muted">{t.lobby.heading}</p>
      <h2 id="lobby-heading" ref={heading} tabIndex={-1}>
        {info.exam.title}
      </h2>
      <p>{t.lobby.signedInAs(info.examinee.name, info.examinee.studentId)}</p>
      <div role="status" data-testid="offline-notice">
        {offline && (
          <div class="notice offline-notice">
            <p>
              <strong>{t.offline.heading}</strong>
            </p>
            <p>{t.offline.lobbyNotice(timeText(info.countdown.serverNow))}</p>
          </div>
        )}
      </div>
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
      <SnapshotConsent config={info.proctoring} />
      <ExamStart
        token={props.token}
        info={info}
        store={props.packages}
        now={() => clock.now()}
        started={secondsLeft === 0}
        offline={offline}
        refresh={refresh}
        onOpened={props.onOpened}
      />
      <p class="muted">{t.lobby.applianceTimeNote}</p>
    </section>
  );
}

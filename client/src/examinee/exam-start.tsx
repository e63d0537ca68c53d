/**
 * The lobby's download and start: "Download exam" inside the download window with a progress
 * bar, the encrypted package kept on the device (PackageStore), and at the official start the
 * key from the appliance, or the exam password read out by a proctor when there is no network.
 * In the offline lobby the password form is there from before the start (the proctor's reading
 * it out is the start, whatever the device's countdown says), and without a package on the
 * device the download panel says that it needs the network.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import {
  importReleasedKey,
  keyFromPassword,
  openPackage,
  parsePackage,
  WrongKeyError,
  type ExamForExaminees,
} from '../shared/exam-package';
import type { PackageStore, StoredPackage } from '../shared/package-store';
import { examKey, type ExamInfo } from './api';
import { downloadPackage, type Progress } from './download';

/** How soon to ask for the key again when the appliance says "not started yet" (clock offsets differ by a round trip). */
const KEY_RETRY_MS = 1_000;
/** How soon to ask again while the appliance's clock waits for a proctor's confirmation. */
const CLOCK_RETRY_MS = 5_000;

const timeText = (ms: number) => new Intl.DateTimeFormat(t.lang, { hour: '2-digit', minute: '2-digit' }).format(ms);

export interface ExamStartProps {
  token: string;
  info: ExamInfo;
  store: PackageStore;
  /** The appliance's time now (undefined before the first contact). */
  now: () => number | undefined;
  /** Whether the official start has come on the appliance's clock. */
  started: boolean;
  /** The appliance cannot be reached (the offline lobby). */
  offline: boolean;
  /** Asks the appliance for the exam info again (downloads left). */
  refresh: () => Promise<void>;
  onOpened: (exam: ExamForExaminees) => void;
}

export function ExamStart(props: ExamStartProps) {
  const { info, store, token, started, offline } = props;
  const [stored, setStored] = useState<StoredPackage | undefined | 'loading'>('loading');
  /** Downloaded on this visit: the panel (and its full progress bar) stays in view. */
  const [downloadedNow, setDownloadedNow] = useState(false);

  useEffect(() => {
    let live = true;
    store.get(info.exam.examId, info.examinee.studentId).then(
      (p) => live && setStored(p),
      () => live && setStored(undefined),
    );
    return () => {
      live = false;
    };
  }, [store, info.exam.examId, info.examinee.studentId]);

  if (stored === 'loading') return null;
  return (
    <>
      {(stored === undefined || downloadedNow) && (
        <DownloadPanel
          {...props}
          started={started && stored === undefined}
          stored={stored !== undefined}
          onStored={(p) => {
            setDownloadedNow(true);
            setStored(p);
          }}
        />
      )}
      {stored !== undefined && (
        <p class="notice-ok" role="status" data-testid="downloaded">
          {started ? t.download.doneStarted : t.download.done}
        </p>
      )}
      {(started || offline) && stored !== undefined && (
        <StartPanel
          token={token}
          pkg={stored}
          started={started}
          offline={offline}
          onOpened={props.onOpened}
          onBroken={() => setStored(undefined)}
        />
      )}
    </>
  );
}

function DownloadPanel(props: ExamStartProps & { stored: boolean; onStored: (p: StoredPackage) => void }) {
  const { info, store, token } = props;
  const [progress, setProgress] = useState<Progress | undefined>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const now = props.now() ?? Date.now();
  const opens = Date.parse(info.schedule.downloadWindow.opens);
  const closes = Date.parse(info.schedule.downloadWindow.closes);
  const inWindow = now >= opens && now <= closes;

  const download = async () => {
    setBusy(true);
    setError('');
    const result = await downloadPackage(token, setProgress);
    if (!result.ok) {
      setBusy(false);
      setProgress(undefined);
      setError(result.message);
      return;
    }
    try {
      parsePackage(result.bytes);
      const pkg: StoredPackage = {
        examId: info.exam.examId,
        studentId: info.examinee.studentId,
        bytes: result.bytes,
        savedAt: Date.now(),
      };
      await store.put(pkg);
      await props.refresh();
      props.onStored(pkg);
    } catch {
      setError(t.download.storageFailed);
    }
    setBusy(false);
  };

  const value = progress?.total === undefined ? undefined : progress.received;
  return (
    <section aria-labelledby="download-heading" class="card stack">
      <h3 id="download-heading">{t.download.heading}</h3>
      {props.started && !props.offline && <p>{t.start.notDownloaded}</p>}
      <p>{t.download.intro}</p>
      {!props.stored && props.offline && !busy && (
        <p class="notice" data-testid="download-needs-network">
          {t.offline.downloadNeedsNetwork}
        </p>
      )}
      {!props.stored && (!props.offline || busy) && (
        <>
          {!inWindow && now < opens && <p>{t.download.opensAt(timeText(opens))}</p>}
          {!inWindow && now > closes && <p>{t.download.closed}</p>}
          {inWindow && info.downloads.left === 0 && <p>{t.download.noneLeft}</p>}
          {inWindow && info.downloads.left > 0 && (
            <button type="button" onClick={() => void download()} disabled={busy}>
              {busy ? t.download.downloading : t.download.button}
            </button>
          )}
        </>
      )}
      {progress && (
        <div class="field">
          <label for="download-progress">{t.download.progressLabel}</label>
          <progress id="download-progress" max={progress.total} value={value}>
            {t.download.progressText(progress.received, progress.total)}
          </progress>
          <p class="muted" aria-live="polite" data-testid="download-progress-text">
            {t.download.progressText(progress.received, progress.total)}
          </p>
        </div>
      )}
      <p role="alert" class="alert">
        {error}
      </p>
    </section>
  );
}

function StartPanel(props: {
  token: string;
  pkg: StoredPackage;
  started: boolean;
  offline: boolean;
  onOpened: (exam: ExamForExaminees) => void;
  onBroken: () => void;
}) {
  const { token, pkg, onOpened, started, offline } = props;
  const [status, setStatus] = useState<'fetching' | 'waiting-for-password'>(
    offline ? 'waiting-for-password' : 'fetching',
  );
  const [error, setError] = useState('');
  const latest = useRef({ onOpened, onBroken: props.onBroken });
  latest.current = { onOpened, onBroken: props.onBroken };

  useEffect(() => {
    let live = true;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const attempt = async () => {
      // No network: no request (and no failed request in the console); the password is the way.
      // Before the start the offline lobby already says so; at the start it is news.
      if (offline || !navigator.onLine) {
        setStatus('waiting-for-password');
        setError(started ? t.start.keyUnavailable : '');
        return;
      }
      const result = await examKey(token);
      if (!live) return;
      if (!result.ok) {
        if (result.code === 'exam-not-started') {
          retry = setTimeout(() => void attempt(), KEY_RETRY_MS);
          return;
        }
        if (result.code === 'clock-not-trusted') {
          // The appliance waits for a chief proctor to confirm its clock: say so, and ask again.
          setError(t.box.clockNotConfirmedExaminee);
          retry = setTimeout(() => void attempt(), CLOCK_RETRY_MS);
          return;
        }
        setStatus('waiting-for-password');
        setError(result.code === 'network-error' ? t.start.keyUnavailable : result.message);
        return;
      }
      try {
        const exam = await openPackage(parsePackage(pkg.bytes), await importReleasedKey(result.body.key));
        if (live) latest.current.onOpened(exam);
      } catch {
        if (live) {
          setStatus('waiting-for-password');
          setError(t.start.brokenPackage);
        }
      }
    };
    if (!offline && navigator.onLine) {
      // Back online (or at the start): ask the appliance for the key again.
      setStatus('fetching');
      setError('');
    }
    void attempt();
    return () => {
      live = false;
      clearTimeout(retry);
    };
  }, [token, pkg, started, offline]);

  return (
    <section aria-labelledby="start-heading" class="card stack">
      {status === 'fetching' && <p role="status">{t.start.opening}</p>}
      {error !== '' && (
        <p role="alert" class="alert">
          {error}
        </p>
      )}
      <PasswordStart
        pkg={pkg}
        intro={offline && !started ? t.offline.passwordIntro : t.start.passwordIntro}
        onOpened={onOpened}
      />
    </section>
  );
}

function PasswordStart(props: { pkg: StoredPackage; intro: string; onOpened: (exam: ExamForExaminees) => void }) {
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password.trim() === '') return;
    setBusy(true);
    setError('');
    try {
      const parsed = parsePackage(props.pkg.bytes);
      const exam = await openPackage(parsed, await keyFromPassword(parsed, password));
      props.onOpened(exam);
    } catch (err) {
      setError(err instanceof WrongKeyError ? t.start.wrongPassword : t.start.brokenPackage);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <h3 id="start-heading">{t.start.passwordHeading}</h3>
      <p class="muted" data-testid="password-intro">
        {props.intro}
      </p>
      <div class="field">
        <label for="exam-password">{t.start.passwordLabel}</label>
        <input
          id="exam-password"
          name="exam-password"
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          aria-describedby="exam-password-hint"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <p id="exam-password-hint" class="muted">
          {t.start.passwordHint}
        </p>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? t.start.passwordChecking : t.start.passwordSubmit}
      </button>
      <p role="alert" class="alert">
        {error}
      </p>
    </form>
  );
}

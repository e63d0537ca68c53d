/**
 * The locked exam (after a reload, or leaving full screen): shows the continuation code to read
 * out to a proctor, takes the resume code the proctor reads back, and checks it on the device
 * with no network (resume.ts; docs/resume-codes.md). Five wrong codes, or "I lost the code", use
 * up the continuation code and show the next; when all are used up, only the chief proctor can
 * help.
 *
 * Props:
 * - `reason`: why the exam locked; shown in words.
 * - `triples`: the device's resume-code triples (the attempt's `triples`).
 * - `spent`: challenges already used or locked (the attempt's `spent`, plus the appliance's
 *   `spent` when it was fetched); later additions are taken in too.
 * - `onSpend(challenge)`: a challenge was just used up on this device; persist it (the attempt's
 *   `spent`) before anything else, so a reload shows the next one.
 * - `onUnlocked(challenge, resumeCode)`: the right code was typed; leave the lock screen. Called
 *   within a second or so of the examinee's Enter or click, so a requestFullscreen() from it is
 *   still allowed by the browser.
 * - `report(challenge, resumeCode)`: every well-formed entry, right or wrong, for the appliance;
 *   normally `resumeOutbox(token).report` (resume.ts), which queues it while offline.
 * - `pbkdf2`, `tries`: for tests; default WebCrypto (pure JS without it) and localStorage.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatChallenge, RESUME_WRONG_TRIES, type ResumeTriple } from '../../../domain/resume-codes.js';
import { t } from '../i18n';
import { useFocusOnMount } from '../shared/focus';
import { createResumeLock, type LockReason, type ResumeEntry, type ResumeLockOptions } from './resume';

export interface LockScreenProps {
  reason: LockReason;
  triples: readonly ResumeTriple[];
  spent: readonly string[];
  onSpend: (challenge: string) => void;
  onUnlocked: (challenge: string, resumeCode: string) => void;
  report: (challenge: string, resumeCode: string) => void;
  pbkdf2?: ResumeLockOptions['pbkdf2'];
  tries?: ResumeLockOptions['tries'];
}

/** "K7QH3M9P" as a screen reader should spell it: "K 7 Q H, 3 M 9 P". */
const spelled = (challenge: string) => {
  const shown = formatChallenge(challenge);
  return shown
    .split('-')
    .map((part) => part.split('').join(' '))
    .join(', ');
};

export function LockScreen(props: LockScreenProps) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const input = useRef<HTMLInputElement>(null);
  // The callbacks may change on every render of the parent; the lock calls the latest ones.
  const latest = useRef(props);
  latest.current = props;
  const [lock] = useState(() =>
    createResumeLock({
      triples: props.triples,
      spent: props.spent,
      onSpend: (c) => latest.current.onSpend(c),
      report: (c, code) => latest.current.report(c, code),
      ...(props.pbkdf2 ? { pbkdf2: props.pbkdf2 } : {}),
      ...(props.tries ? { tries: props.tries } : {}),
    }),
  );
  const [, setVersion] = useState(0);
  const rerender = () => setVersion((v) => v + 1);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [info, setInfo] = useState('');
  const [confirmingSkip, setConfirmingSkip] = useState(false);

  // Challenges spent elsewhere (another tab, the appliance) are spent here too.
  useEffect(() => {
    lock.sync(props.spent);
    setVersion((v) => v + 1);
  }, [lock, props.spent]);

  const state = lock.state();
  const shown = state.challenge === undefined ? '' : formatChallenge(state.challenge);

  /** The challenge was used up: clear the field and say which code to read out now. */
  const showNext = (next: string | undefined, why: string) => {
    setTyped('');
    setConfirmingSkip(false);
    setInfo(next === undefined ? why : `${why} ${t.exam.lock.nextShown(formatChallenge(next))}`.trim());
    rerender();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError('');
    setInfo('');
    setBusy(true);
    let entry: ResumeEntry;
    try {
      entry = await lock.enter(typed);
    } finally {
      setBusy(false);
    }
    switch (entry.outcome) {
      case 'malformed':
        setError(t.exam.lock.malformed);
        input.current?.focus();
        break;
      case 'busy':
        break;
      case 'no-challenge':
        rerender();
        break;
      case 'unlocked':
        latest.current.onUnlocked(entry.challenge, entry.resumeCode);
        break;
      case 'wrong':
        if (entry.next !== entry.challenge) {
          showNext(entry.next, t.exam.lock.wrongSpent(RESUME_WRONG_TRIES));
        } else {
          setError(t.exam.lock.wrong(entry.triesLeft));
          rerender();
          input.current?.select();
        }
        break;
    }
  };

  const skip = () => {
    const next = lock.skip();
    showNext(next, '');
    heading.current?.focus();
  };

  return (
    <section class="lock-screen card stack" aria-labelledby="lock-heading" aria-busy={busy}>
      <h2 id="lock-heading" tabIndex={-1} ref={heading}>
        {t.exam.lock.heading}
      </h2>
      <p>{t.exam.lock.reasons[props.reason] ?? t.exam.lock.otherReason}</p>
      <p class="muted">{t.exam.lock.answersSafe}</p>

      {state.challenge === undefined ? (
        <p role="alert" class="alert">
          {t.exam.lock.allSpent}
        </p>
      ) : (
        <>
          <p>{t.exam.lock.raiseHand}</p>
          <div class="lock-code-box">
            <p class="lock-code-label" id="lock-code-label">
              {t.exam.lock.codeLabel}
            </p>
            <p class="lock-code" aria-labelledby="lock-code-label">
              <span aria-hidden="true">{shown}</span>
              <span class="visually-hidden">{spelled(state.challenge)}</span>
            </p>
            <p class="muted">{t.exam.lock.codeNumber(state.number, state.total)}</p>
          </div>

          <form onSubmit={(e) => void submit(e)} noValidate>
            <div class="field">
              <label for="resume-code">{t.exam.lock.inputLabel}</label>
              <input
                id="resume-code"
                ref={input}
                name="resume-code"
                class="lock-input"
                autocomplete="off"
                autocapitalize="characters"
                spellcheck={false}
                aria-describedby="resume-code-hint resume-code-error"
                aria-invalid={error !== ''}
                value={typed}
                readOnly={busy}
                onInput={(e) => setTyped(e.currentTarget.value)}
              />
              {/* Right under the field, so it is in view where the examinee is looking (below the
                  button it could be under the fold, and Unlock seemed to do nothing); announced. */}
              <p id="resume-code-error" role="alert" aria-live="assertive" class="alert">
                {error}
              </p>
              <p id="resume-code-hint" class="muted">
                {t.exam.lock.inputHint} {t.exam.lock.offlineNote}
              </p>
            </div>
            {busy && (
              <p role="status" class="lock-checking">
                <progress aria-label={t.exam.lock.checking} />
                <span>{t.exam.lock.checking}</span>
              </p>
            )}
            {/* aria-disabled, not disabled: a disabled button drops the keyboard focus. */}
            <button type="submit" aria-disabled={busy}>
              {busy ? t.exam.lock.checking : t.exam.lock.unlock}
            </button>
          </form>

          <div class="lock-lost">
            {confirmingSkip ? (
              <div role="group" aria-labelledby="lock-lost-question" class="stack">
                <p id="lock-lost-question">{t.exam.lock.lostConfirm(shown)}</p>
                <div class="lock-actions">
                  <button type="button" onClick={skip}>
                    {t.exam.lock.lostYes}
                  </button>
                  <button type="button" class="secondary" onClick={() => setConfirmingSkip(false)}>
                    {t.exam.lock.lostNo}
                  </button>
                </div>
              </div>
            ) : (
              <button type="button" class="link-button" onClick={() => !busy && setConfirmingSkip(true)}>
                {t.exam.lock.lost}
              </button>
            )}
          </div>
        </>
      )}
      <p role="status" class="notice-ok lock-info">
        {info}
      </p>
    </section>
  );
}

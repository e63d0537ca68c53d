/**
 * What watches over the exam on this device: the persistent outboxes (resume-code entries,
 * integrity events, questions to the proctors: kept until they reach the appliance), the
 * integrity watch while the exam runs, the lock when full screen is left (told to the appliance, so
 * the proctors see "Locked"), and the challenges the appliance knows are spent.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import { canFullscreen, integrityOutbox, isFullscreen, requestFullscreen, watchIntegrity } from './integrity';
import type { AttemptDoc, LockReason } from './local-db';
import { questionsOutbox } from './messages-panel';
import { resumeOutbox } from './resume';
import type { AttemptActions } from './use-attempt';

/** Whether the device can lock the exam: it holds resume-code triples (as attempt.ts on reload). */
export const canLock = (attempt: Pick<AttemptDoc, 'triples'>) => attempt.triples.length > 0;

export function useOutboxes(token: string) {
  const [outboxes] = useState(() => ({
    resume: resumeOutbox(token),
    integrity: integrityOutbox(token),
    questions: questionsOutbox(token),
  }));
  useEffect(
    () => () => {
      outboxes.resume.stop();
      outboxes.integrity.stop();
      outboxes.questions.stop();
    },
    [outboxes],
  );
  return outboxes;
}

/** Reports integrity events while the exam runs, and once the reload that brought this load here. */
export function useIntegrityWatch(
  report: Parameters<typeof watchIntegrity>[0]['report'],
  options: { running: boolean; reloaded: boolean },
): void {
  const { running, reloaded } = options;
  const reloadReported = useRef(false);
  useEffect(() => {
    if (!running) return;
    if (reloaded && !reloadReported.current) report('reload');
    reloadReported.current = true;
    return watchIntegrity({ report });
  }, [running, reloaded, report]);
}

/** Full screen: its state, the step's refusal, and the lock when it is left during the exam. */
export function useFullscreenLock(attempt: AttemptDoc, actions: AttemptActions, now: () => number) {
  const [fullscreen, setFullscreen] = useState(() => isFullscreen());
  const [refused, setRefused] = useState(false);
  const latest = useRef({ attempt, now });
  latest.current = { attempt, now };
  useEffect(() => {
    const changed = () => {
      const on = isFullscreen();
      setFullscreen(on);
      if (on) setRefused(false);
      const a = latest.current.attempt;
      const running = a.sealed === null && a.receipt === null;
      if (!on && running && a.requireFullscreen && a.lock === null && canLock(a))
        void actions.lock('fullscreen-exit', latest.current.now());
    };
    document.addEventListener('fullscreenchange', changed);
    return () => document.removeEventListener('fullscreenchange', changed);
  }, [actions]);
  const enter = async () => setRefused(!(await requestFullscreen()));
  return { fullscreen, refused, enter, supported: canFullscreen() };
}

/** Locked and online: challenges the appliance knows are used or locked are spent here too. */
export function useSpentChallenges(options: {
  locked: boolean;
  online: boolean;
  token: string;
  actions: AttemptActions;
}) {
  const { locked, online, token, actions } = options;
  useEffect(() => {
    if (!locked || !online) return;
    let cancelled = false;
    void callApi<{ triples: ResumeTriple[]; spent: string[] }>('/api/exam/resume-challenges', {
      headers: apiHeaders(token),
    }).then((r) => {
      if (!cancelled && r.ok && Array.isArray(r.body.spent)) void actions.spend(r.body.spent);
    });
    return () => {
      cancelled = true;
    };
  }, [locked, online, token, actions]);
}

/**
 * Tells the appliance the exam is locked here, so the monitor shows "Locked" until the resume code
 * is used. Only while still locked and online: a lock lifted offline needs no report (the resume
 * outbox reports the code, which lifts it on the appliance too); a failed post is retried at the
 * next reconnect.
 */
export function useReportLock(options: {
  lock: { reason: LockReason; at: number } | null;
  online: boolean;
  token: string;
}) {
  const { online, token } = options;
  const reason = options.lock?.reason;
  const at = options.lock?.at;
  useEffect(() => {
    if (reason === undefined || at === undefined || !online) return;
    void callApi('/api/exam/lock', { method: 'POST', headers: apiHeaders(token), json: { reason } });
  }, [reason, at, online, token]);
}

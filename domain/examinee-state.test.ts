import { describe, expect, it } from 'vitest';
import { FakeClock, MINUTE } from './clock.js';
import type { ExamEvent } from './events.js';
import {
  activeSubmission,
  applyExamineeEvent,
  EXAMINEE_STATUSES,
  examineeStatus,
  initialExamineeState,
  type ExamineeState,
  type ExamineeStatus,
} from './examinee-state.js';
import { EV, START, STUDENT_ID, TestChain } from '../tests/support/fixtures.js';

/** Replays a day event by event, recording the status after each step. */
class Day {
  readonly chain = new TestChain();
  readonly clock = new FakeClock(START - 30 * MINUTE);
  state: ExamineeState = initialExamineeState(STUDENT_ID);

  apply(event: Parameters<TestChain['append']>[1]): ExamineeStatus {
    const e = this.chain.append(this.clock.now(), event);
    this.clock.advance(MINUTE);
    this.state = applyExamineeEvent(this.state, e);
    return examineeStatus(this.state);
  }
}

describe('examinee status machine', () => {
  it('starts as not-started with an empty state', () => {
    const s = initialExamineeState(STUDENT_ID);
    expect(examineeStatus(s)).toBe('not-started');
    expect(s).toMatchObject({ studentId: STUDENT_ID, sessionNo: 0, downloads: [], submissions: [], connected: true });
  });

  it('walks through every one of the eight statuses', () => {
    const day = new Day();
    const seen = new Set<ExamineeStatus>([examineeStatus(day.state)]);
    const step = (event: Parameters<Day['apply']>[0], expected: ExamineeStatus) => {
      expect(day.apply(event)).toBe(expected);
      seen.add(expected);
    };
    step(EV.signedIn('laptop-1', 1), 'logged-in');
    step(EV.downloaded(), 'logged-in');
    step(EV.started(), 'active');
    step(EV.presence(false), 'disconnected');
    step(EV.presence(true), 'active');
    step(EV.locked('reload'), 'locked');
    step(EV.resumed(), 'active');
    step(EV.reloginRequested('laptop-2'), 'waiting-relogin');
    step(EV.reloginApproved('laptop-2', 2), 'active');
    step(EV.submitted(1), 'submitted');
    step(EV.verification('rejected'), 'verification-rejected');
    expect([...seen].sort()).toEqual([...EXAMINEE_STATUSES].sort());
  });

  it('a sign-in records the device, the session and the first sign-in time, and counts as connected', () => {
    const day = new Day();
    const firstAt = day.clock.now();
    day.apply(EV.presence(false));
    day.apply(EV.signedIn('laptop-1', 1));
    expect(day.state).toMatchObject({
      deviceId: 'laptop-1',
      sessionNo: 1,
      firstSignInAt: firstAt + MINUTE,
      connected: true,
    });
    day.apply(EV.signedIn('laptop-1', 2));
    expect(day.state.firstSignInAt).toBe(firstAt + MINUTE);
    expect(day.state.sessionNo).toBe(2);
  });

  it('disconnected and back, also before the start', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    expect(day.apply(EV.presence(false))).toBe('logged-in'); // presence only splits active/disconnected
    day.apply(EV.downloaded());
    expect(day.apply(EV.started())).toBe('disconnected');
    expect(day.apply(EV.presence(true))).toBe('active');
    expect(day.apply(EV.presence(false))).toBe('disconnected');
  });

  it('locked while the device waits for a resume code, also when disconnected; a used code or a submission lifts it', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    day.apply(EV.downloaded());
    day.apply(EV.started());
    const lockedAt = day.clock.now();
    expect(day.apply(EV.locked('fullscreen-exit'))).toBe('locked');
    expect(day.state.locked).toEqual({ reason: 'fullscreen-exit', at: lockedAt });
    expect(day.apply(EV.presence(false))).toBe('locked');
    expect(day.apply(EV.resumed())).toBe('disconnected');
    expect(day.state.locked).toBeUndefined();
    expect(day.apply(EV.presence(true))).toBe('active');
    expect(day.apply(EV.locked('reload'))).toBe('locked');
    expect(day.apply(EV.submitted(1))).toBe('submitted');
  });

  it('relogin approved moves the session to the new device', () => {
    const day = new Day();
    day.apply(EV.signedIn('laptop-1', 1));
    expect(day.apply(EV.reloginRequested('laptop-2'))).toBe('waiting-relogin');
    expect(day.state.pendingDeviceId).toBe('laptop-2');
    expect(day.apply(EV.reloginApproved('laptop-2', 2))).toBe('logged-in');
    expect(day.state).toMatchObject({ deviceId: 'laptop-2', sessionNo: 2, pendingDeviceId: undefined });
  });

  it('relogin rejected keeps the old device and goes back to the previous status', () => {
    const day = new Day();
    day.apply(EV.signedIn('laptop-1', 1));
    day.apply(EV.downloaded());
    day.apply(EV.started());
    expect(day.apply(EV.reloginRequested('laptop-2'))).toBe('waiting-relogin');
    expect(day.apply(EV.reloginRejected('laptop-2'))).toBe('active');
    expect(day.state).toMatchObject({ deviceId: 'laptop-1', sessionNo: 1, pendingDeviceId: undefined });
  });

  it('waiting-relogin shows over submitted, and submitted comes back when the proctor decides', () => {
    const day = new Day();
    day.apply(EV.signedIn('laptop-1', 1));
    day.apply(EV.downloaded());
    day.apply(EV.started());
    day.apply(EV.submitted(1));
    expect(day.apply(EV.reloginRequested('laptop-2'))).toBe('waiting-relogin');
    expect(day.apply(EV.reloginRejected('laptop-2'))).toBe('submitted');
  });

  it('submission removed by a proctor goes back to active; the next submission counts', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    day.apply(EV.downloaded());
    day.apply(EV.started());
    expect(day.apply(EV.submitted(1, 'a'.repeat(64)))).toBe('submitted');
    expect(activeSubmission(day.state)?.n).toBe(1);
    expect(day.apply(EV.submissionRemoved(1))).toBe('active');
    expect(activeSubmission(day.state)).toBeUndefined();
    expect(day.state.submissions).toHaveLength(1);
    expect(day.state.submissions[0]?.removed).toBe(true);
    expect(day.apply(EV.submitted(2, 'b'.repeat(64), true))).toBe('submitted');
    expect(activeSubmission(day.state)).toMatchObject({ n: 2, sha256: 'b'.repeat(64), late: true, removed: false });
  });

  it('activeSubmission is the latest one not removed', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    day.apply(EV.downloaded());
    day.apply(EV.started());
    day.apply(EV.submitted(1));
    day.apply(EV.submitted(2));
    day.apply(EV.submissionRemoved(2));
    expect(activeSubmission(day.state)?.n).toBe(1);
  });

  it('orders submissions by number, then acceptance time, then id, in whatever order their events arrive', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    day.apply(EV.started());
    type Accepted = Extract<ExamEvent, { kind: 'submission-accepted' }>;
    const submitted = (n: number, id: string, at: number): Accepted => ({
      ...(day.chain.append(at, EV.submitted(n)) as Accepted),
      data: { submissionId: id, n, sha256: 'b'.repeat(64), size: 9, submissionType: 'manual', late: false },
    });
    // Two boxes each accepted a file as n=1 (box-b two seconds later); box-a's clock was then set
    // back an hour by a chief proctor before it accepted n=2.
    const a1 = submitted(1, 'submission:exam-1:S1:box-a:1', START + 40 * MINUTE);
    const b1 = submitted(1, 'submission:exam-1:S1:box-b:1', START + 40 * MINUTE + 2_000);
    const a2 = submitted(2, 'submission:exam-1:S1:box-a:2', START - 20 * MINUTE);
    const order = [a1, b1, a2].map((e) => e.data.submissionId);
    for (const arrival of [
      [a1, b1, a2],
      [b1, a1, a2],
      [a2, b1, a1],
      [b1, a2, a1],
    ]) {
      const state = arrival.reduce<ExamineeState>((st, e) => applyExamineeEvent(st, e), day.state);
      expect(state.submissions.map((s) => s.submissionId)).toEqual(order);
      expect(activeSubmission(state)?.submissionId).toBe('submission:exam-1:S1:box-a:2');
    }
    // The same number and time: by id.
    const twin: Accepted = { ...b1, data: { ...b1.data, submissionId: 'submission:exam-1:S1:box-0:1' }, at: a1.at };
    const state = [a1, twin].reduce<ExamineeState>((st, e) => applyExamineeEvent(st, e), day.state);
    expect(activeSubmission(state)?.submissionId).toBe('submission:exam-1:S1:box-a:1');
  });

  it('verification rejected wins over every other status; verified or retake lifts it', () => {
    const day = new Day();
    expect(day.apply(EV.verification('rejected'))).toBe('verification-rejected');
    day.apply(EV.signedIn());
    day.apply(EV.reloginRequested('laptop-2'));
    expect(examineeStatus(day.state)).toBe('verification-rejected');
    expect(day.apply(EV.verification('retake'))).toBe('waiting-relogin');
    expect(day.apply(EV.reloginRejected('laptop-2'))).toBe('logged-in');
    expect(day.apply(EV.verification('rejected'))).toBe('verification-rejected');
    expect(day.apply(EV.verification('verified'))).toBe('logged-in');
  });

  it('records every download time and keeps the first start time', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    const t1 = day.clock.now();
    day.apply(EV.downloaded(1));
    const t2 = day.clock.now();
    day.apply(EV.downloaded(2));
    const s1 = day.clock.now();
    day.apply(EV.started());
    day.apply(EV.started());
    expect(day.state.downloads).toEqual([t1, t2]);
    expect(day.state.startedAt).toBe(s1);
  });

  it('for an unknown kind of event, only notes when the examinee was last active', () => {
    const s = initialExamineeState(STUDENT_ID);
    const unknown = { ...new TestChain().append(START, EV.started()), kind: 'exam-paused' } as unknown as ExamEvent;
    expect(applyExamineeEvent(s, unknown)).toEqual({ ...s, lastEventAt: START });
  });

  it('does not mutate the state it is given', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    const before = structuredClone(day.state);
    const frozen = day.state;
    applyExamineeEvent(frozen, new TestChain().append(START, EV.downloaded()));
    expect(frozen).toEqual(before);
  });
});

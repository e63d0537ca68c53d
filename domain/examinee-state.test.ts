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

  it('counts, of each box its highest number, the latest accepted, in whatever order the events arrive', () => {
    const day = new Day();
    day.apply(EV.signedIn());
    day.apply(EV.started());
    type Accepted = Extract<ExamEvent, { kind: 'submission-accepted' }>;
    const submitted = (box: string, n: number, at: number): Accepted => ({
      ...(day.chain.append(at, EV.submitted(n)) as Accepted),
      applianceId: box,
      data: {
        submissionId: `submission:exam-1:S1:${box}:${n}`,
        n,
        sha256: 'b'.repeat(64),
        size: 9,
        submissionType: 'manual',
        late: false,
      },
    });
    // Box a accepted n=1; then a chief proctor set box a's clock back an hour, and it accepted
    // n=2: on box a, n=2 is the later whatever its clock says.
    const a1 = submitted('box-a', 1, START + 40 * MINUTE);
    const a2 = submitted('box-a', 2, START - 20 * MINUTE);
    const arrivals = [
      [a1, a2],
      [a2, a1],
    ];
    for (const arrival of arrivals) {
      const state = arrival.reduce<ExamineeState>((st, e) => applyExamineeEvent(st, e), day.state);
      expect(activeSubmission(state)?.submissionId).toBe(a2.data.submissionId);
      // The list reads as a history by the box's clock.
      expect(state.submissions.map((s) => s.n)).toEqual([2, 1]);
    }
    // Box b, which never heard of box a's, accepted its n=1 two seconds after box a's n=1: of the
    // two boxes' latest, b's was accepted later by the clocks (a2's clock reading is an hour back).
    const b1 = submitted('box-b', 1, START + 40 * MINUTE + 2_000);
    for (const arrival of [
      [a1, a2, b1],
      [b1, a1, a2],
      [a2, b1, a1],
    ]) {
      const state = arrival.reduce<ExamineeState>((st, e) => applyExamineeEvent(st, e), day.state);
      expect(activeSubmission(state)?.submissionId).toBe(b1.data.submissionId);
      expect(state.submissions.map((s) => s.submissionId)).toEqual([a2, a1, b1].map((e) => e.data.submissionId));
      // A proctor removes b's: box a's latest counts again.
      const removed = applyExamineeEvent(state, {
        ...(day.chain.append(START + 50 * MINUTE, EV.submissionRemoved(1)) as Extract<
          ExamEvent,
          { kind: 'submission-removed' }
        >),
        data: { submissionId: b1.data.submissionId, reason: 'wrong file' },
      });
      expect(activeSubmission(removed)?.submissionId).toBe(a2.data.submissionId);
    }
    // The same time and number on two boxes: the greater appliance id.
    const z1 = submitted('box-z', 1, a1.at);
    const state = [z1, a1].reduce<ExamineeState>((st, e) => applyExamineeEvent(st, e), day.state);
    expect(activeSubmission(state)?.submissionId).toBe(z1.data.submissionId);
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

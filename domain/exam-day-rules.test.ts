import { describe, expect, it } from 'vitest';
import { FakeClock, MINUTE } from './clock.js';
import { examineeTimeline } from './exam-clock.js';
import { decideDownload, decideDraft, decideStart, decideSignIn, decideSubmission } from './exam-day-rules.js';
import type { NewEvent } from './events.js';
import type { ExamineeState } from './examinee-state.js';
import {
  DOWNLOAD_CLOSES,
  DOWNLOAD_OPENS,
  EV,
  foldEvents,
  LATE_LOGIN_MINUTES,
  makeExam,
  START,
  TestChain,
  UPLOAD_DEADLINE,
} from '../tests/support/fixtures.js';

const exam = makeExam();
const timeline = examineeTimeline(exam, 0);
const DEADLINE = START + 90 * MINUTE;

/** The examinee's state after these events, stamped one second apart from 08:10. */
function stateAfter(...events: NewEvent[]): ExamineeState {
  const chain = new TestChain();
  const clock = new FakeClock(START - 50 * MINUTE);
  for (const e of events) {
    chain.append(clock.now(), e);
    clock.advance(1_000);
  }
  return foldEvents(chain.events);
}

const fresh = stateAfter();
const signedIn = stateAfter(EV.signedIn());
const downloaded = stateAfter(EV.signedIn(), EV.downloaded());
const started = stateAfter(EV.signedIn(), EV.downloaded(), EV.started());
const submitted = stateAfter(EV.signedIn(), EV.downloaded(), EV.started(), EV.submitted(1, 'a'.repeat(64)));
const removed = stateAfter(
  EV.signedIn(),
  EV.downloaded(),
  EV.started(),
  EV.submitted(1, 'a'.repeat(64)),
  EV.submissionRemoved(1),
);
const rejected = stateAfter(EV.signedIn(), EV.downloaded(), EV.started(), EV.verification('rejected'));

describe('decideSignIn', () => {
  it('refuses a rejected examinee, bound or not', () => {
    expect(decideSignIn(rejected, timeline, 'laptop-1', START)).toEqual({ ok: false, code: 'verification-rejected' });
    expect(decideSignIn(stateAfter(EV.verification('rejected')), timeline, 'laptop-1', START)).toEqual({
      ok: false,
      code: 'verification-rejected',
    });
  });

  it('first sign-in: closed 1 ms before login opens, open exactly at loginOpens', () => {
    expect(timeline.loginOpens).toBe(DOWNLOAD_OPENS);
    expect(decideSignIn(fresh, timeline, 'laptop-1', timeline.loginOpens - 1)).toEqual({
      ok: false,
      code: 'login-not-open-yet',
    });
    expect(decideSignIn(fresh, timeline, 'laptop-1', timeline.loginOpens)).toEqual({ ok: true, action: 'bind' });
  });

  it('first sign-in: still open exactly at the late-login deadline, closed 1 ms after', () => {
    const lateLogin = START + LATE_LOGIN_MINUTES * MINUTE;
    expect(timeline.lateLoginDeadline).toBe(lateLogin);
    expect(decideSignIn(fresh, timeline, 'laptop-1', lateLogin)).toEqual({ ok: true, action: 'bind' });
    expect(decideSignIn(fresh, timeline, 'laptop-1', lateLogin + 1)).toEqual({ ok: false, code: 'late-login-closed' });
  });

  it('first sign-in: a personal late-login override moves the limit', () => {
    const extended = examineeTimeline(exam, 0, {
      examExtraMinutes: 0,
      personalExtraMinutes: 0,
      personalLateLoginMinutes: 40,
    });
    expect(decideSignIn(fresh, extended, 'laptop-1', START + 40 * MINUTE)).toEqual({ ok: true, action: 'bind' });
    expect(decideSignIn(fresh, extended, 'laptop-1', START + 40 * MINUTE + 1)).toEqual({
      ok: false,
      code: 'late-login-closed',
    });
  });

  it('the bound device signs in again at any time, also after the late-login deadline', () => {
    expect(decideSignIn(signedIn, timeline, 'laptop-1', START + 80 * MINUTE)).toEqual({
      ok: true,
      action: 'same-device',
    });
    expect(decideSignIn(signedIn, timeline, 'laptop-1', timeline.loginOpens - 1)).toEqual({
      ok: true,
      action: 'same-device',
    });
  });

  it('a second device asks for re-login; asking again is already pending; a third device asks too', () => {
    expect(decideSignIn(signedIn, timeline, 'laptop-2', START)).toEqual({ ok: true, action: 'relogin-request' });
    const pending = stateAfter(EV.signedIn('laptop-1'), EV.reloginRequested('laptop-2'));
    expect(decideSignIn(pending, timeline, 'laptop-2', START)).toEqual({ ok: true, action: 'already-pending' });
    expect(decideSignIn(pending, timeline, 'phone-3', START)).toEqual({ ok: true, action: 'relogin-request' });
    expect(decideSignIn(pending, timeline, 'laptop-1', START)).toEqual({ ok: true, action: 'same-device' });
  });
  it('follows a clock that jumps back: closed after the late-login deadline, open again before it', () => {
    const clock = new FakeClock(timeline.lateLoginDeadline + 5 * MINUTE);
    expect(decideSignIn(fresh, timeline, 'laptop-1', clock.now())).toEqual({ ok: false, code: 'late-login-closed' });
    clock.advance(-10 * MINUTE);
    expect(decideSignIn(fresh, timeline, 'laptop-1', clock.now())).toEqual({ ok: true, action: 'bind' });
    clock.set(0); // a box that booted with no RTC
    expect(decideSignIn(fresh, timeline, 'laptop-1', clock.now())).toEqual({ ok: false, code: 'login-not-open-yet' });
  });
});

describe('decideDownload', () => {
  it('refuses a rejected examinee and one who has submitted', () => {
    expect(decideDownload(rejected, timeline, 2, DOWNLOAD_OPENS)).toEqual({ ok: false, code: 'verification-rejected' });
    expect(decideDownload(submitted, timeline, 2, DOWNLOAD_OPENS)).toEqual({ ok: false, code: 'already-submitted' });
  });

  it('allows again once the proctor removed the submission', () => {
    expect(decideDownload(removed, timeline, 2, DOWNLOAD_OPENS)).toEqual({ ok: true, downloadNo: 2 });
  });

  it('window: closed 1 ms before it opens, open at opens and at closes, closed 1 ms after', () => {
    expect(decideDownload(signedIn, timeline, 2, DOWNLOAD_OPENS - 1)).toEqual({
      ok: false,
      code: 'download-window-not-open',
    });
    expect(decideDownload(signedIn, timeline, 2, DOWNLOAD_OPENS)).toEqual({ ok: true, downloadNo: 1 });
    expect(decideDownload(signedIn, timeline, 2, DOWNLOAD_CLOSES)).toEqual({ ok: true, downloadNo: 1 });
    expect(decideDownload(signedIn, timeline, 2, DOWNLOAD_CLOSES + 1)).toEqual({
      ok: false,
      code: 'download-window-closed',
    });
  });

  it('counts downloads against maxDownloads', () => {
    expect(decideDownload(downloaded, timeline, 2, START)).toEqual({ ok: true, downloadNo: 2 });
    const twice = stateAfter(EV.signedIn(), EV.downloaded(1), EV.downloaded(2));
    expect(decideDownload(twice, timeline, 2, START)).toEqual({ ok: false, code: 'download-limit-reached' });
    expect(decideDownload(twice, timeline, 3, START)).toEqual({ ok: true, downloadNo: 3 });
    expect(decideDownload(signedIn, timeline, 0, START)).toEqual({ ok: false, code: 'download-limit-reached' });
  });

  it('follows a clock that jumps back into the window', () => {
    const clock = new FakeClock(DOWNLOAD_CLOSES + 5 * MINUTE);
    expect(decideDownload(signedIn, timeline, 2, clock.now())).toEqual({ ok: false, code: 'download-window-closed' });
    clock.set(DOWNLOAD_CLOSES - 5 * MINUTE);
    expect(decideDownload(signedIn, timeline, 2, clock.now())).toEqual({ ok: true, downloadNo: 1 });
  });
});

describe('decideStart', () => {
  it('refuses a rejected examinee, one who has submitted, and one with no download', () => {
    expect(decideStart(rejected, timeline, START)).toEqual({ ok: false, code: 'verification-rejected' });
    expect(decideStart(submitted, timeline, START)).toEqual({ ok: false, code: 'already-submitted' });
    expect(decideStart(signedIn, timeline, START)).toEqual({ ok: false, code: 'exam-not-downloaded' });
  });

  it('not before the official start; from exactly the start', () => {
    expect(decideStart(downloaded, timeline, START - 1)).toEqual({ ok: false, code: 'exam-not-started' });
    expect(decideStart(downloaded, timeline, START)).toEqual({ ok: true, firstStart: true });
  });

  it('on an untrusted clock: no first start (whatever the time says), but one who started goes on', () => {
    expect(decideStart(downloaded, timeline, START, false, false)).toEqual({ ok: false, code: 'clock-not-trusted' });
    expect(decideStart(downloaded, timeline, START - 1, false, false)).toEqual({
      ok: false,
      code: 'clock-not-trusted',
    });
    expect(decideStart(signedIn, timeline, START, false, false)).toEqual({ ok: false, code: 'exam-not-downloaded' });
    expect(decideStart(started, timeline, START + 10 * MINUTE, false, false)).toEqual({ ok: true, firstStart: false });
    expect(decideStart(downloaded, timeline, START, false, true)).toEqual({ ok: true, firstStart: true });
  });

  it('a resume after the first start is not a first start', () => {
    expect(decideStart(started, timeline, START + 10 * MINUTE)).toEqual({ ok: true, firstStart: false });
    expect(decideStart(removed, timeline, START + 10 * MINUTE)).toEqual({ ok: true, firstStart: false });
  });

  it('open 1 ms before the deadline, over exactly at the deadline and after', () => {
    expect(decideStart(started, timeline, DEADLINE - 1)).toEqual({ ok: true, firstStart: false });
    expect(decideStart(started, timeline, DEADLINE)).toEqual({ ok: false, code: 'exam-time-over' });
    expect(decideStart(started, timeline, DEADLINE + 1)).toEqual({ ok: false, code: 'exam-time-over' });
  });

  it("uses the examinee's own (accommodated) deadline", () => {
    const accommodated = examineeTimeline(exam, 50);
    expect(decideStart(started, accommodated, DEADLINE)).toEqual({ ok: true, firstStart: false });
    expect(decideStart(started, accommodated, START + 135 * MINUTE)).toEqual({ ok: false, code: 'exam-time-over' });
  });

  it('follows a clock that jumps back before the start', () => {
    const clock = new FakeClock(DEADLINE + MINUTE);
    expect(decideStart(downloaded, timeline, clock.now())).toEqual({ ok: false, code: 'exam-time-over' });
    clock.set(START - MINUTE);
    expect(decideStart(downloaded, timeline, clock.now())).toEqual({ ok: false, code: 'exam-not-started' });
    clock.advance(MINUTE);
    expect(decideStart(downloaded, timeline, clock.now())).toEqual({ ok: true, firstStart: true });
  });
});

describe('decideDraft', () => {
  it('refuses before the examinee started and after a submission', () => {
    expect(decideDraft(signedIn, timeline, START)).toEqual({ ok: false, code: 'not-started-by-examinee' });
    expect(decideDraft(downloaded, timeline, START - 1)).toEqual({ ok: false, code: 'not-started-by-examinee' });
    expect(decideDraft(submitted, timeline, START + MINUTE)).toEqual({ ok: false, code: 'already-submitted' });
  });

  it('accepts drafts until 60 s after the deadline, refuses 1 ms later', () => {
    expect(decideDraft(started, timeline, START)).toEqual({ ok: true });
    expect(decideDraft(started, timeline, DEADLINE)).toEqual({ ok: true });
    expect(decideDraft(started, timeline, DEADLINE + 60_000)).toEqual({ ok: true });
    expect(decideDraft(started, timeline, DEADLINE + 60_001)).toEqual({ ok: false, code: 'exam-time-over' });
  });

  it('accepts drafts from an examinee who has the package once the start passed (offline start with the exam password)', () => {
    expect(decideDraft(downloaded, timeline, START)).toEqual({ ok: true });
  });

  it('accepts drafts again once a submission was removed', () => {
    expect(decideDraft(removed, timeline, START + MINUTE)).toEqual({ ok: true });
  });

  it('follows a clock that jumps back', () => {
    const clock = new FakeClock(DEADLINE + 2 * MINUTE);
    expect(decideDraft(started, timeline, clock.now())).toEqual({ ok: false, code: 'exam-time-over' });
    clock.advance(-10 * MINUTE);
    expect(decideDraft(started, timeline, clock.now())).toEqual({ ok: true });
  });
});

describe('decideSubmission', () => {
  const sha = 'b'.repeat(64);

  it('a retry of the accepted content is a replay, at any time; other content is refused', () => {
    const accepted = stateAfter(EV.signedIn(), EV.downloaded(), EV.started(), EV.submitted(1, sha));
    const replay = { ok: true, action: 'replay', submissionId: 'submission:BIO-101-2026:s-1001:1' };
    expect(decideSubmission(accepted, timeline, sha, START + MINUTE)).toEqual(replay);
    expect(decideSubmission(accepted, timeline, sha, UPLOAD_DEADLINE + 60 * MINUTE)).toEqual(replay);
    expect(decideSubmission(accepted, timeline, 'c'.repeat(64), START + MINUTE)).toEqual({
      ok: false,
      code: 'already-submitted',
    });
  });

  it('refuses a rejected examinee and one who never started', () => {
    expect(decideSubmission(rejected, timeline, sha, START + MINUTE)).toEqual({
      ok: false,
      code: 'verification-rejected',
    });
    expect(decideSubmission(signedIn, timeline, sha, START + MINUTE)).toEqual({
      ok: false,
      code: 'not-started-by-examinee',
    });
    expect(decideSubmission(downloaded, timeline, sha, START - 1)).toEqual({
      ok: false,
      code: 'not-started-by-examinee',
    });
    // Started offline with the exam password: the key release was never recorded.
    expect(decideSubmission(downloaded, timeline, sha, START + MINUTE)).toMatchObject({ ok: true, action: 'accept' });
  });

  it('accepts up to the cutoff and numbers the submission (the timing case is decided in time-up.ts)', () => {
    expect(decideSubmission(started, timeline, sha, DEADLINE)).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
    expect(decideSubmission(started, timeline, sha, DEADLINE + 1)).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
    // After a removed submission the next one is number 2.
    expect(decideSubmission(removed, timeline, sha, START + MINUTE)).toEqual({
      ok: true,
      action: 'accept',
      n: 2,
    });
  });

  it('upload-deadline mode: accepted exactly at the upload deadline, refused 1 ms after', () => {
    expect(timeline.submissionCutoff).toBe(UPLOAD_DEADLINE);
    expect(decideSubmission(started, timeline, sha, UPLOAD_DEADLINE)).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
    expect(decideSubmission(started, timeline, sha, UPLOAD_DEADLINE + 1)).toEqual({
      ok: false,
      code: 'upload-deadline-passed',
    });
  });

  it('upload-deadline mode: an accommodated examinee submits after the upload deadline until deadline + grace', () => {
    const accommodated = examineeTimeline(exam, 100); // deadline 12:00, upload deadline 11:00
    const own = START + 180 * MINUTE;
    expect(decideSubmission(started, accommodated, sha, UPLOAD_DEADLINE + 1)).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
    expect(decideSubmission(started, accommodated, sha, own + 60_000)).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
    expect(decideSubmission(started, accommodated, sha, own + 60_001)).toEqual({
      ok: false,
      code: 'upload-deadline-passed',
    });
  });

  it('examinee-deadline mode: accepted until deadline + grace, then "time over" while the upload deadline is still ahead', () => {
    const own = examineeTimeline(makeExam({ settings: { acceptSubmissionsUntil: 'examinee-deadline' } }), 0);
    expect(decideSubmission(started, own, sha, DEADLINE + 60_000)).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
    expect(decideSubmission(started, own, sha, DEADLINE + 60_001)).toEqual({ ok: false, code: 'exam-time-over' });
    expect(decideSubmission(started, own, sha, UPLOAD_DEADLINE + 1)).toEqual({
      ok: false,
      code: 'upload-deadline-passed',
    });
  });

  it('no upload deadline: refused with "time over" after deadline + grace', () => {
    const noUpload = examineeTimeline(makeExam({ uploadDeadline: undefined }), 0);
    expect(decideSubmission(started, noUpload, sha, DEADLINE + 60_000)).toMatchObject({ ok: true, action: 'accept' });
    expect(decideSubmission(started, noUpload, sha, DEADLINE + 60_001)).toEqual({ ok: false, code: 'exam-time-over' });
  });

  it('follows a clock that jumps back before the cutoff', () => {
    const clock = new FakeClock(UPLOAD_DEADLINE + MINUTE);
    expect(decideSubmission(started, timeline, sha, clock.now())).toEqual({
      ok: false,
      code: 'upload-deadline-passed',
    });
    clock.set(START + 30 * MINUTE);
    expect(decideSubmission(started, timeline, sha, clock.now())).toEqual({
      ok: true,
      action: 'accept',
      n: 1,
    });
  });
});

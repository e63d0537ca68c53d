import { describe, expect, it } from 'vitest';
import { FakeClock, MINUTE } from './clock.js';
import { examineeTimeline, NO_ADJUSTMENTS, timeLeftMs } from './exam-clock.js';
import {
  DOWNLOAD_CLOSES,
  DOWNLOAD_OPENS,
  DURATION_MINUTES,
  LATE_LOGIN_MINUTES,
  makeExam,
  START,
  UPLOAD_DEADLINE,
} from '../tests/support/fixtures.js';

const iso = (ms: number) => new Date(ms).toISOString();
const exam = makeExam();

describe('examineeTimeline: deadline', () => {
  it('is start + duration for an examinee with nothing extra', () => {
    const t = examineeTimeline(exam, 0);
    expect(t.officialStart).toBe(START);
    expect(t.allowedMs).toBe(DURATION_MINUTES * MINUTE);
    expect(t.deadline).toBe(START + 90 * MINUTE);
    expect(t.downloadOpens).toBe(DOWNLOAD_OPENS);
    expect(t.downloadCloses).toBe(DOWNLOAD_CLOSES);
    expect(t.uploadDeadline).toBe(UPLOAD_DEADLINE);
  });

  it('stretches the duration by the accommodation percent', () => {
    expect(examineeTimeline(exam, 50).deadline).toBe(START + 135 * MINUTE);
    expect(examineeTimeline(exam, 100).deadline).toBe(START + 180 * MINUTE);
    // In floating point 90 min × 1.1 is 5940000.000000001 ms and 7 min × 1.15 is 482999.99999999994 ms;
    // the deadline is still a whole millisecond.
    const t = examineeTimeline(exam, 10);
    expect(t.deadline).toBe(START + 99 * MINUTE);
    expect(Number.isInteger(t.allowedMs)).toBe(true);
    const short = makeExam({ durationMinutes: 7, uploadDeadline: undefined });
    expect(examineeTimeline(short, 15).allowedMs).toBe(483_000);
  });

  it('adds exam-wide and personal extra minutes on top, not stretched by the accommodation', () => {
    const t = examineeTimeline(exam, 25, { examExtraMinutes: 10, personalExtraMinutes: 5 });
    // 90 × 1.25 = 112.5 minutes, + 10 + 5.
    expect(t.deadline).toBe(START + 127.5 * MINUTE);
    expect(t.allowedMs).toBe(127.5 * MINUTE);
    expect(examineeTimeline(exam, 0, { examExtraMinutes: 10, personalExtraMinutes: 0 }).deadline).toBe(
      START + 100 * MINUTE,
    );
    expect(examineeTimeline(exam, 0, { examExtraMinutes: 0, personalExtraMinutes: 7 }).deadline).toBe(
      START + 97 * MINUTE,
    );
  });

  it('defaults to no adjustments', () => {
    expect(examineeTimeline(exam, 0)).toEqual(examineeTimeline(exam, 0, NO_ADJUSTMENTS));
  });
});

describe('examineeTimeline: late login', () => {
  const base = { examExtraMinutes: 0, personalExtraMinutes: 0 };

  it("is the exam's late-login limit after the start", () => {
    expect(examineeTimeline(exam, 0).lateLoginDeadline).toBe(START + LATE_LOGIN_MINUTES * MINUTE);
  });

  it('follows an exam-wide override', () => {
    expect(examineeTimeline(exam, 0, { ...base, examLateLoginMinutes: 45 }).lateLoginDeadline).toBe(
      START + 45 * MINUTE,
    );
  });

  it('follows a personal override before the exam-wide one', () => {
    const t = examineeTimeline(exam, 0, { ...base, examLateLoginMinutes: 45, personalLateLoginMinutes: 60 });
    expect(t.lateLoginDeadline).toBe(START + 60 * MINUTE);
    expect(examineeTimeline(exam, 0, { ...base, personalLateLoginMinutes: 5 }).lateLoginDeadline).toBe(
      START + 5 * MINUTE,
    );
  });

  it('takes an override of 0 minutes as 0, not as "not set"', () => {
    expect(examineeTimeline(exam, 0, { ...base, examLateLoginMinutes: 0 }).lateLoginDeadline).toBe(START);
    expect(
      examineeTimeline(exam, 0, { ...base, examLateLoginMinutes: 45, personalLateLoginMinutes: 0 }).lateLoginDeadline,
    ).toBe(START);
  });

  it('is not moved by accommodation or extra time', () => {
    const t = examineeTimeline(exam, 100, { examExtraMinutes: 30, personalExtraMinutes: 30 });
    expect(t.lateLoginDeadline).toBe(START + LATE_LOGIN_MINUTES * MINUTE);
  });
});

describe('examineeTimeline: loginOpens', () => {
  it('is the download opening when that comes before the lobby', () => {
    // Downloads open 60 minutes before the start, the lobby 30.
    expect(examineeTimeline(exam, 0).loginOpens).toBe(DOWNLOAD_OPENS);
  });

  it('is the lobby opening when that comes before the downloads', () => {
    const late = makeExam({ downloadWindow: { opens: iso(START - 10 * MINUTE), closes: iso(START + 30 * MINUTE) } });
    expect(examineeTimeline(late, 0).loginOpens).toBe(START - 30 * MINUTE);
    const bigLobby = makeExam({ settings: { lobbyMinutes: 120 } });
    expect(examineeTimeline(bigLobby, 0).loginOpens).toBe(START - 120 * MINUTE);
  });

  it('is the start itself with no lobby and downloads opening at the start', () => {
    const atStart = makeExam({
      downloadWindow: { opens: iso(START), closes: iso(START + 30 * MINUTE) },
      settings: { lobbyMinutes: 0 },
    });
    expect(examineeTimeline(atStart, 0).loginOpens).toBe(START);
  });
});

describe('examineeTimeline: submissionCutoff', () => {
  it('defaults to "upload-deadline" with a 60 s grace', () => {
    expect(exam.settings.acceptSubmissionsUntil).toBe('upload-deadline');
    expect(exam.settings.submissionGraceSeconds).toBe(60);
  });

  it('upload-deadline mode: the upload deadline when it is after the examinee deadline + grace', () => {
    const t = examineeTimeline(exam, 0);
    expect(t.submissionCutoff).toBe(UPLOAD_DEADLINE);
  });

  it('upload-deadline mode: an accommodated examinee whose deadline is after the upload deadline keeps deadline + grace', () => {
    const t = examineeTimeline(exam, 100);
    expect(t.deadline).toBe(START + 180 * MINUTE);
    expect(t.deadline).toBeGreaterThan(UPLOAD_DEADLINE);
    expect(t.submissionCutoff).toBe(t.deadline + 60_000);
  });

  it('upload-deadline mode with no upload deadline: deadline + grace', () => {
    const noUpload = makeExam({ uploadDeadline: undefined });
    const t = examineeTimeline(noUpload, 0);
    expect(t.uploadDeadline).toBeUndefined();
    expect(t.submissionCutoff).toBe(START + 90 * MINUTE + 60_000);
  });

  it('examinee-deadline mode: deadline + grace, even when the upload deadline is later', () => {
    const own = makeExam({ settings: { acceptSubmissionsUntil: 'examinee-deadline' } });
    expect(examineeTimeline(own, 0).submissionCutoff).toBe(START + 90 * MINUTE + 60_000);
    const ownNoGrace = makeExam({
      settings: { acceptSubmissionsUntil: 'examinee-deadline', submissionGraceSeconds: 0 },
    });
    expect(examineeTimeline(ownNoGrace, 0).submissionCutoff).toBe(START + 90 * MINUTE);
    // The accommodated examinee's own deadline counts, and so do granted minutes.
    const t = examineeTimeline(own, 50, { examExtraMinutes: 5, personalExtraMinutes: 0 });
    expect(t.submissionCutoff).toBe(START + 140 * MINUTE + 60_000);
  });
});

describe('timeLeftMs', () => {
  const t = examineeTimeline(exam, 0);

  it('is the full allowed time before and at the start, then counts down to 0 and stays there', () => {
    const clock = new FakeClock(START - 15 * MINUTE);
    expect(timeLeftMs(t, clock.now())).toBe(90 * MINUTE);
    clock.set(START);
    expect(timeLeftMs(t, clock.now())).toBe(90 * MINUTE);
    clock.advance(30 * MINUTE);
    expect(timeLeftMs(t, clock.now())).toBe(60 * MINUTE);
    clock.set(t.deadline - 1);
    expect(timeLeftMs(t, clock.now())).toBe(1);
    clock.set(t.deadline);
    expect(timeLeftMs(t, clock.now())).toBe(0);
    clock.advance(1);
    expect(timeLeftMs(t, clock.now())).toBe(0);
    clock.advance(24 * 60 * MINUTE);
    expect(timeLeftMs(t, clock.now())).toBe(0);
  });

  it('follows a clock that jumps back, never below 0 nor above the allowed time', () => {
    const clock = new FakeClock(START + 80 * MINUTE);
    expect(timeLeftMs(t, clock.now())).toBe(10 * MINUTE);
    clock.set(START + 20 * MINUTE); // NTP correction backwards
    expect(timeLeftMs(t, clock.now())).toBe(70 * MINUTE);
    clock.set(Date.parse('1970-01-01T00:00:00Z')); // box booted with no RTC
    expect(timeLeftMs(t, clock.now())).toBe(t.allowedMs);
    clock.set(START + 200 * MINUTE);
    expect(timeLeftMs(t, clock.now())).toBe(0);
  });

  it('counts the accommodated and extended time', () => {
    const long = examineeTimeline(exam, 50, { examExtraMinutes: 0, personalExtraMinutes: 15 });
    const clock = new FakeClock(START + 90 * MINUTE);
    expect(timeLeftMs(long, clock.now())).toBe(60 * MINUTE);
  });
});

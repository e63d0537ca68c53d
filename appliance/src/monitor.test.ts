/**
 * The live exam monitor over app.request(): exam info and its edits, tracking totals, the
 * participants table (search, filter, sort, columns), every per-examinee action, messages both
 * ways, presence and extensions seen live in the monitor and the examinee's streams, and the
 * session report.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../domain/canonical.js';
import { FakeClock } from '../../domain/clock.js';
import { verifyChain } from '../../domain/events.js';
import type { ParticipantRow } from '../../domain/monitor.js';
import {
  formatChallenge,
  pbkdf2Sha256Js,
  verifyResumeCodeOffline,
  type ResumeTriple,
} from '../../domain/resume-codes.js';
import {
  addTestProctors,
  ExamineeClient,
  openTestAppliance,
  ProctorClient,
  removeDir,
  SseReader,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
const EXAM = '/api/proctor/exams/exam-1';
let appliance: TestAppliance;
let clock: FakeClock;
let chief: ProctorClient;
let invi: ProctorClient;
let ada: ExamineeClient;
let alan: ExamineeClient;

const codeOf = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

type Rows = { rows: ParticipantRow[]; statusCounts: Record<string, number>; total: number };

async function startExam(...clients: ExamineeClient[]): Promise<void> {
  for (const c of clients) {
    expect((await c.signIn()).status).toBe(200);
    expect((await c.get('/api/exam/package')).status).toBe(200);
  }
  clock.set(START + 1 * MIN);
  for (const c of clients) expect((await c.get('/api/exam/key')).status).toBe(200);
}

const row = async (studentId: string) =>
  (await chief.json<{ row: ParticipantRow }>('GET', `${EXAM}/participants/${studentId}`)).row;

beforeEach(async () => {
  clock = new FakeClock(START - 20 * MIN);
  appliance = await openTestAppliance(clock, { exam: testExam(START) });
  await addTestProctors(appliance);
  chief = new ProctorClient(appliance.app);
  invi = new ProctorClient(appliance.app);
  expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
  expect((await invi.login('invi', 'invi-password-1')).status).toBe(200);
  ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
  alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

describe('exam info and tracking totals', () => {
  it('shows the exam’s settings, countdown and totals, and records every edit as an event', async () => {
    const info = await invi.json<Record<string, unknown>>('GET', EXAM);
    expect(info).toMatchObject({
      assessmentType: 'Final exam',
      scheduledStart: new Date(START).toISOString(),
      msUntilStart: 20 * MIN,
      minimumClientVersion: '0.1.0',
      verificationMode: 'manual',
      editable: { lateLoginMinutes: 15, extraMinutes: 0, disabledHardwareChecks: [] },
      totals: { posted: 3, downloads: 0, uploads: 0, uploadDeadline: new Date(START + 120 * MIN).toISOString() },
    });
    await startExam(ada);
    await ada.submit(ada.answerFile({ q1: 'a' }));
    expect((await chief.json<{ totals: unknown }>('GET', EXAM)).totals).toMatchObject({
      posted: 3,
      downloads: 1,
      uploads: 1,
    });

    const edited = await chief.json<Record<string, unknown>>('PATCH', `${EXAM}/settings`, {
      lateLoginMinutes: 40,
      extraMinutes: 10,
      disabledHardwareChecks: ['camera', 'microphone'],
    });
    expect(edited).toMatchObject({
      editable: { lateLoginMinutes: 40, extraMinutes: 10, disabledHardwareChecks: ['camera', 'microphone'] },
    });
    // Everyone's deadline moves by the extension; the late-login limit lets a late examinee in.
    expect((await row('S2')).deadline).toBe(new Date(START + (90 + 10) * MIN).toISOString());
    clock.set(START + 30 * MIN);
    const grace = new ExamineeClient(appliance.app, 'S3', 'EEEE3333FFFF');
    expect((await grace.signIn()).status).toBe(200);
    await appliance.store.flushIndex();
    const kinds = (await appliance.store.examEvents('exam-1'))
      .filter((e) => e.actor.role === 'proctor')
      .map((e) => e.kind);
    expect(kinds).toEqual(['late-login-limit-set', 'exam-extension-set', 'hardware-checks-set']);
  });

  it('shows the exam as examinees see it, without answer keys: before the start to a chief only, each reading recorded', async () => {
    // Before the start an invigilator may not read the paper.
    const early = await invi.request('GET', `${EXAM}/preview`);
    expect(early.status).toBe(403);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('forbidden-role');
    const preview = await chief.json<{ exam: { sections: unknown[] } }>('GET', `${EXAM}/preview`);
    expect(JSON.stringify(preview)).toContain('SECRET-PROMPT-MARKER');
    expect(JSON.stringify(preview)).not.toContain('answerKey');
    // A reload soon after is the same reading: one event.
    await chief.json('GET', `${EXAM}/preview`);
    clock.set(START);
    const later = await invi.json<{ exam: { sections: unknown[] } }>('GET', `${EXAM}/preview`);
    expect(JSON.stringify(later)).toContain('SECRET-PROMPT-MARKER');
    await appliance.store.flushIndex();
    const views = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'exam-preview-viewed');
    expect(views.map((e) => [e.actor, e.data])).toEqual([
      [{ role: 'proctor', username: 'chief' }, { beforeStart: true }],
      [{ role: 'proctor', username: 'invi' }, { beforeStart: false }],
    ]);
  });

  it('labels questions for every proctor: numbers always, prompt excerpts only once the paper may be read', async () => {
    type Labels = { questions: { questionId: string; number: number; excerpt: string | null }[] };
    const early = await invi.json<Labels>('GET', `${EXAM}/questions`);
    expect(early.questions.length).toBeGreaterThan(1);
    expect(early.questions.map((q) => q.number)).toEqual(early.questions.map((_, i) => i + 1));
    expect(early.questions.every((q) => q.excerpt === null)).toBe(true);
    expect(JSON.stringify(early)).not.toContain('SECRET-PROMPT-MARKER');
    const forChief = await chief.json<Labels>('GET', `${EXAM}/questions`);
    expect(forChief.questions.every((q) => typeof q.excerpt === 'string' && q.excerpt.length <= 60)).toBe(true);
    clock.set(START);
    const later = await invi.json<Labels>('GET', `${EXAM}/questions`);
    expect(later.questions.every((q) => typeof q.excerpt === 'string')).toBe(true);
    // Labels are not a reading of the paper.
    await appliance.store.flushIndex();
    expect((await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'exam-preview-viewed')).toEqual([]);
  });

  it('gives the exam password to a chief only, and records each look', async () => {
    const refused = await invi.request('GET', `${EXAM}/exam-password`);
    expect(refused.status).toBe(403);
    const res = await chief.request('GET', `${EXAM}/exam-password`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { password } = (await res.json()) as { password: string };
    expect(password).toBe((await appliance.examDay.packages.secret('exam-1')).password);
    await appliance.store.flushIndex();
    const looks = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'exam-password-viewed');
    expect(looks.map((e) => e.actor)).toEqual([{ role: 'proctor', username: 'chief' }]);
  });
});

describe('participants', () => {
  it('searches by name or id, filters by status, sorts, and counts statuses', async () => {
    await startExam(ada);
    await ada.submit(ada.answerFile({ q1: 'a' }));
    clock.set(START + 2 * MIN);
    await alan.signIn();
    const all = await invi.json<Rows>('GET', `${EXAM}/participants?sort=name`);
    expect(all.rows.map((r) => r.name)).toEqual(['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
    expect(all.statusCounts).toMatchObject({ submitted: 1, 'logged-in': 1, 'not-started': 1, active: 0 });
    expect((await invi.json<Rows>('GET', `${EXAM}/participants?q=turi`)).rows.map((r) => r.studentId)).toEqual(['S2']);
    expect((await invi.json<Rows>('GET', `${EXAM}/participants?q=s3`)).rows.map((r) => r.name)).toEqual([
      'Grace Hopper',
    ]);
    expect(
      (await invi.json<Rows>('GET', `${EXAM}/participants?status=submitted`)).rows.map((r) => r.studentId),
    ).toEqual(['S1']);
    expect(
      (await invi.json<Rows>('GET', `${EXAM}/participants?sort=name&dir=desc`)).rows.map((r) => r.studentId),
    ).toEqual(['S3', 'S2', 'S1']);
    expect((await invi.request('GET', `${EXAM}/participants?status=sleeping`)).status).toBe(400);
    const ada1 = all.rows.find((r) => r.studentId === 'S1');
    expect(ada1).toMatchObject({
      status: 'submitted',
      downloads: 1,
      firstDownloadAt: new Date(START - 20 * MIN).toISOString(),
      submissionType: 'manual',
      closedScore: { score: 2, maxScore: 4 },
      answeredPercent: 20,
      hasEmail: true,
    });
    expect(JSON.stringify(all)).not.toContain('ada@example.org'); // contact details stay hidden
  });

  it('reveals contact details only on request, and records who looked', async () => {
    const revealed = await invi.json<{ email: string | null; phone: string | null }>(
      'POST',
      `${EXAM}/participants/S1/reveal-contact`,
      {},
    );
    expect(revealed).toEqual({ email: 'ada@example.org', phone: null });
    await appliance.store.flushIndex();
    const look = (await appliance.store.examEvents('exam-1')).find((e) => e.kind === 'contact-revealed');
    expect(look).toMatchObject({ studentId: 'S1', actor: { role: 'proctor', username: 'invi' } });
  });

  it('changes max downloads with + / − / set, and the download limit follows', async () => {
    const grace = new ExamineeClient(appliance.app, 'S3', 'EEEE3333FFFF'); // max 1
    await grace.signIn();
    expect((await grace.get('/api/exam/package')).status).toBe(200);
    expect((await grace.get('/api/exam/package')).status).toBe(403);
    expect(
      (await invi.json<{ row: ParticipantRow }>('POST', `${EXAM}/participants/S3/max-downloads`, { change: 1 })).row
        .maxDownloads,
    ).toBe(2);
    expect((await grace.get('/api/exam/package')).status).toBe(200);
    expect(
      (await invi.json<{ row: ParticipantRow }>('POST', `${EXAM}/participants/S3/max-downloads`, { set: 5 })).row
        .maxDownloads,
    ).toBe(5);
    expect(
      (await invi.json<{ row: ParticipantRow }>('POST', `${EXAM}/participants/S3/max-downloads`, { change: -1 })).row
        .maxDownloads,
    ).toBe(4);
    expect((await invi.request('POST', `${EXAM}/participants/S3/max-downloads`, { set: -1 })).status).toBe(400);
    expect((await invi.request('POST', `${EXAM}/participants/S3/max-downloads`, { change: 7 })).status).toBe(400);
    // Bad numbers are refused before anything is recorded: too many, a fraction, text, nothing, both.
    for (const bad of [{ set: 101 }, { set: 1.5 }, { set: '3' }, {}, { set: 3, change: 1 }, { change: 0 }])
      expect(
        (await invi.request('POST', `${EXAM}/participants/S3/max-downloads`, bad)).status,
        JSON.stringify(bad),
      ).toBe(400);
    expect(
      (await invi.json<{ rows: ParticipantRow[] }>('GET', `${EXAM}/participants`)).rows.find(
        (r) => r.studentId === 'S3',
      )?.maxDownloads,
    ).toBe(4);
  });

  it('sets a personal late-login time that lets a late examinee sign in', async () => {
    clock.set(START + 20 * MIN); // past the 15-minute limit
    const grace = new ExamineeClient(appliance.app, 'S3', 'EEEE3333FFFF');
    expect((await grace.signIn()).status).toBe(403);
    await invi.json('POST', `${EXAM}/participants/S3/late-login`, { minutes: 30 });
    expect((await grace.signIn()).status).toBe(200);
    expect((await row('S3')).lateLoginDeadline).toBe(new Date(START + 30 * MIN).toISOString());
  });

  it('shows time extension in minutes and accommodation percent, and both move the deadline', async () => {
    await startExam(alan); // 50 % accommodation
    expect(await row('S2')).toMatchObject({
      accommodationPercent: 50,
      extensionMinutes: 0,
      deadline: new Date(START + 90 * MIN).toISOString(),
    });
    await invi.json('POST', `${EXAM}/participants/S2/time-extension`, { minutes: 15 });
    await chief.json('POST', `${EXAM}/participants/S2/accommodation`, { percent: 25 });
    expect(await row('S2')).toMatchObject({
      accommodationPercent: 25,
      extensionMinutes: 15,
      deadline: new Date(START + (75 + 15) * MIN).toISOString(),
    });
  });

  it('verifies by camera: photos reviewed as verify, reject or ask for another; the exam waits for it', async () => {
    await chief.json('POST', `${EXAM}/participants/S1/verification-mode`, { mode: 'camera' });
    await startExamWithoutKey(ada);
    clock.set(START + 1 * MIN);
    expect((await ada.get('/api/exam/key')).status).toBe(403); // verification pending
    const photo = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const upload = () =>
      appliance.app.request('/api/exam/verification/photo?kind=face', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'image/jpeg', 'x-content-sha256': sha256Hex(photo) }),
        body: photo,
      });
    expect((await upload()).status).toBe(201);
    expect(await row('S1')).toMatchObject({
      verificationMode: 'camera',
      verification: 'pending',
      verificationPhotos: 1,
    });
    await invi.json('POST', `${EXAM}/participants/S1/verification`, { decision: 'retake' });
    expect((await row('S1')).verification).toBe('retake');
    expect((await upload()).status).toBe(201);
    await invi.json('POST', `${EXAM}/participants/S1/verification`, { decision: 'verified' });
    expect((await ada.get('/api/exam/key')).status).toBe(200);
    // A rejected examinee cannot take the exam.
    await chief.json('POST', `${EXAM}/participants/S2/verification-mode`, { mode: 'camera' });
    await alan.signIn();
    await invi.json('POST', `${EXAM}/participants/S2/verification`, { decision: 'rejected' });
    expect((await row('S2')).status).toBe('verification-rejected');
    const refused = await alan.get('/api/exam/package');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('verification-rejected');
  });

  it('verifies by password: the chief generates passwords in Exam info, the examinee types one', async () => {
    await chief.json('POST', `${EXAM}/participants/S1/verification-mode`, { mode: 'password' });
    const { passwords } = await chief.json<{ passwords: string[] }>('POST', `${EXAM}/verification-passwords`, {
      count: 3,
    });
    expect(passwords).toHaveLength(3);
    await startExamWithoutKey(ada);
    clock.set(START + 1 * MIN);
    const typePassword = (password: string) =>
      appliance.app.request('/api/exam/verification/password', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ password }),
      });
    expect((await typePassword('WRONGPASS')).status).toBe(403);
    expect((await ada.get('/api/exam/key')).status).toBe(403);
    expect((await typePassword((passwords[1] ?? '').toLowerCase())).status).toBe(200);
    expect((await row('S1')).verification).toBe('verified');
    expect((await ada.get('/api/exam/key')).status).toBe(200);
  });

  it('handles bathroom breaks: request → later → approve → back', async () => {
    await startExam(ada);
    // Ada's device learns each decision from its event stream.
    const stream = new SseReader(await ada.get('/api/exam/events'));
    const seen = (status: string) =>
      stream.waitFor((e) => e.event === 'timeline' && (e.data as { bathroom: string }).bathroom === status);
    await seen('none');
    const post = (p: string) => appliance.app.request(p, { method: 'POST', headers: ada.headers() });
    expect(
      (await invi.request('POST', `${EXAM}/participants/S1/bathroom-break`, { decision: 'approved' })).status,
    ).toBe(409);
    expect((await post('/api/exam/bathroom-break')).status).toBe(200);
    expect((await row('S1')).bathroom).toBe('requested');
    await seen('requested');
    await invi.json('POST', `${EXAM}/participants/S1/bathroom-break`, { decision: 'later' });
    expect((await row('S1')).bathroom).toBe('later');
    await seen('later');
    await invi.json('POST', `${EXAM}/participants/S1/bathroom-break`, { decision: 'approved' });
    await seen('approved');
    expect((await post('/api/exam/bathroom-break/return')).status).toBe(200);
    expect((await row('S1')).bathroom).toBe('returned');
    await seen('returned');
    await stream.close();
  });

  it('disables hardware checks per examinee', async () => {
    const { row: r } = await invi.json<{ row: ParticipantRow }>('POST', `${EXAM}/participants/S1/hardware-checks`, {
      disabled: ['camera', 'multiple-screens', 'camera'],
    });
    expect(r.disabledHardwareChecks).toEqual(['camera', 'multiple-screens']);
    expect(
      (await invi.request('POST', `${EXAM}/participants/S1/hardware-checks`, { disabled: ['x-ray'] })).status,
    ).toBe(400);
  });

  it('approves a re-login on a new device; the old device’s session ends', async () => {
    await startExam(ada);
    const phone = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'phone-0123456789abcdefg');
    expect((await phone.signIn()).status).toBe(202);
    expect((await row('S1')).status).toBe('waiting-relogin');
    await invi.json('POST', `${EXAM}/participants/S1/relogin`, { decision: 'approve' });
    expect((await phone.signIn()).status).toBe(200);
    expect((await phone.get('/api/exam')).status).toBe(200);
    const moved = await ada.get('/api/exam');
    expect(moved.status).toBe(409);
    expect(codeOf(await moved.json())).toBe('session-moved');
    expect((await row('S1')).status).toBe('active');
    expect((await invi.request('POST', `${EXAM}/participants/S1/relogin`, { decision: 'approve' })).status).toBe(409);
  });

  it('lets an approved second device continue without a second sign-in, and tells the old one', async () => {
    await startExam(ada);
    expect((await ada.putDraft(1, { q1: 'b' })).status).toBe(200);
    const adaStream = new SseReader(await ada.get('/api/exam/events'));
    await adaStream.waitFor((e) => e.event === 'timeline');
    const phone = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'phone-0123456789abcdefg');
    expect((await phone.signIn()).status).toBe(202);
    const pendingToken = phone.token!;
    // Before the approval the pending token only polls.
    expect(await (await phone.get('/api/session')).json()).toMatchObject({ waitingForApproval: true });
    expect((await phone.get('/api/session')).headers.get('cache-control')).toBe('no-store');
    await invi.json('POST', `${EXAM}/participants/S1/relogin`, { decision: 'approve' });

    // The old device's stream says where the exam went, and ends.
    const told = await adaStream.waitFor((e) => e.event === 'session');
    expect(told.data).toMatchObject({ code: 'session-moved' });
    // Polling with the pending token hands the phone its real token: no second sign-in.
    const polled = (await (await phone.get('/api/session')).json()) as { token?: string; waitingForApproval: boolean };
    expect(polled.waitingForApproval).toBe(false);
    expect(typeof polled.token).toBe('string');
    expect((await phone.get('/api/exam')).status).toBe(403); // the pending token itself stays pending
    phone.token = polled.token;
    expect((await phone.get('/api/exam')).status).toBe(200);
    // The phone gets the answers the appliance holds.
    const pulled = (await (await phone.get('/api/exam/answers/pull?counter=0')).json()) as {
      documents: { answers: Record<string, unknown> }[];
    };
    expect(pulled.documents[0]?.answers).toEqual({ q1: 'b' });

    // The old device's answers are refused with the reason, and change nothing.
    const late = await ada.putDraft(2, { q1: 'a' });
    expect(late.status).toBe(409);
    expect(codeOf(await late.json())).toBe('session-moved');
    expect(((await (await phone.get('/api/exam/draft')).json()) as { answers: unknown }).answers).toEqual({ q1: 'b' });
    const lateSubmit = await ada.submit(ada.answerFile({ q1: 'a' }));
    expect(lateSubmit.status).toBe(409);
    expect((await row('S1')).submissionType).toBe('not-yet');

    // The pending token is exchanged once only for that approval: after another move it is refused.
    const tablet = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'tablet-0123456789abcdef');
    expect((await tablet.signIn()).status).toBe(202);
    await invi.json('POST', `${EXAM}/participants/S1/relogin`, { decision: 'approve' });
    const stale = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'phone-0123456789abcdefg');
    stale.token = pendingToken;
    const refused = await stale.get('/api/session');
    expect(refused.status).toBe(401);
    expect(codeOf(await refused.json())).toBe('session-invalid');
    expect(codeOf(await (await phone.get('/api/exam')).json())).toBe('session-moved');
  });

  it('removes a submission so the examinee can re-enter and submit again', async () => {
    await startExam(ada);
    await ada.submit(ada.answerFile({ q1: 'b' }));
    expect((await row('S1')).submissionType).toBe('manual');
    await chief.json('POST', `${EXAM}/participants/S1/remove-submission`, { reason: 'submitted by mistake' });
    expect(await row('S1')).toMatchObject({ status: 'active', submissionType: 'not-yet', uploadedAt: null });
    expect((await ada.putDraft(5, { q1: 'a' })).status).toBe(200);
    const again = await ada.submit(ada.answerFile({ q1: 'a' }), { type: 'automatic' });
    expect(again.status).toBe(201);
    // "automatic" long before the deadline is the client's claim only: it counts as a hand-in.
    expect(await row('S1')).toMatchObject({
      status: 'submitted',
      submissionType: 'manual',
      timing: 'on-time',
      closedScore: { score: 2, maxScore: 4 },
    });
  });

  it('scores integrity from the examinee’s integrity events and keeps a review status', async () => {
    await startExam(ada);
    for (const type of ['visibility-hidden', 'paste', 'fullscreen-exit']) {
      const res = await appliance.app.request('/api/exam/integrity', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ type }),
      });
      expect(res.status).toBe(201);
    }
    expect(await row('S1')).toMatchObject({ integrityScore: 80, integrityEvents: 3, integrityReview: 'not-reviewed' });
    await invi.json('POST', `${EXAM}/participants/S1/integrity-review`, {
      status: 'cleared',
      note: 'pasted own notes, allowed',
    });
    expect((await row('S1')).integrityReview).toBe('cleared');
  });

  it('stores and restores each proctor’s columns', async () => {
    expect((await invi.json<{ columns: string[] }>('GET', '/api/proctor/preferences/columns')).columns).toContain(
      'status',
    );
    await invi.json('PUT', '/api/proctor/preferences/columns', { columns: ['status', 'name', 'timeLeft'] });
    expect((await invi.json<{ columns: string[] }>('GET', '/api/proctor/preferences/columns')).columns).toEqual([
      'status',
      'name',
      'timeLeft',
    ]);
    expect((await chief.json<{ columns: string[] }>('GET', '/api/proctor/preferences/columns')).columns).not.toEqual([
      'status',
      'name',
      'timeLeft',
    ]);
    expect((await invi.request('PUT', '/api/proctor/preferences/columns', { columns: ['salary'] })).status).toBe(400);
  });
});

async function startExamWithoutKey(c: ExamineeClient): Promise<void> {
  expect((await c.signIn()).status).toBe(200);
  expect((await c.get('/api/exam/package')).status).toBe(200);
}

describe('live monitor', () => {
  it('shows an examinee disconnecting and coming back, and an extension changing their deadline live', async () => {
    await startExam(ada);
    const monitor = new SseReader(await chief.request('GET', `${EXAM}/monitor`));
    const snapshot = await monitor.waitFor((e) => e.event === 'snapshot');
    expect((snapshot.data as { rows: ParticipantRow[] }).rows.find((r) => r.studentId === 'S1')?.status).toBe('active');

    // Ada's device holds its event stream: she is present.
    const adaStream = new SseReader(await ada.get('/api/exam/events'));
    await adaStream.waitFor((e) => e.event === 'timeline');
    // The stream drops (Wi-Fi gone); nothing changes until the timeout passes.
    await adaStream.close();
    clock.advance(25_000);
    appliance.services.presence.tick();
    clock.advance(10_000); // 35 s > 30 s
    appliance.services.presence.tick();
    await monitor.waitFor(
      (e) =>
        e.event === 'row' &&
        (e.data as ParticipantRow).studentId === 'S1' &&
        (e.data as ParticipantRow).status === 'disconnected',
    );
    // She comes back.
    const back = new SseReader(await ada.get('/api/exam/events'));
    await monitor.waitFor(
      (e) =>
        e.event === 'row' &&
        (e.data as ParticipantRow).studentId === 'S1' &&
        (e.data as ParticipantRow).status === 'active',
    );
    await back.waitFor((e) => e.event === 'timeline');

    // A proctor grants 10 minutes: the monitor row and Ada's own timer change at once.
    await invi.json('POST', `${EXAM}/participants/S1/time-extension`, { minutes: 10 });
    const newDeadline = new Date(START + 70 * MIN).toISOString();
    await monitor.waitFor((e) => e.event === 'row' && (e.data as ParticipantRow).deadline === newDeadline);
    const timeline = await back.waitFor(
      (e) => e.event === 'timeline' && (e.data as { deadline: string }).deadline === newDeadline,
    );
    expect(timeline.data).toMatchObject({ status: 'active', deadline: newDeadline });
    await back.close();
    await monitor.close();
    await appliance.store.flushIndex();
    const presence = (await appliance.store.examEvents('exam-1'))
      .filter((e) => e.kind === 'presence-changed')
      .map((e) => e.data);
    expect(presence).toEqual([{ connected: false }, { connected: true }]);
  });

  it('sends the row again when an autosave changes how much the examinee answered, and only then', async () => {
    await startExam(ada);
    const monitor = new SseReader(await chief.request('GET', `${EXAM}/monitor`));
    await monitor.waitFor((e) => e.event === 'snapshot');
    const progressOf = (e: { event: string; data: unknown }) =>
      e.event === 'row' && (e.data as ParticipantRow).studentId === 'S1' ? (e.data as ParticipantRow) : undefined;

    expect((await ada.putDraft(1, { q1: 'a' })).status).toBe(200);
    const first = progressOf(await monitor.waitFor((e) => progressOf(e) !== undefined))!;
    expect(first).toMatchObject({ answered: 1, questions: 5, answeredPercent: 20 });

    // A new answer to the same question changes nothing the monitor shows: no row is sent.
    expect((await ada.putDraft(2, { q1: 'b' })).status).toBe(200);
    expect((await ada.putDraft(3, { q1: 'b', q2: true })).status).toBe(200);
    const second = progressOf(await monitor.waitFor((e) => progressOf(e) !== undefined))!;
    expect(second).toMatchObject({ answered: 2, answeredPercent: 40 });
    expect(monitor.events.filter((e) => progressOf(e) !== undefined)).toEqual([]);
    await monitor.close();
  });

  it('delivers messages live both ways: announcements, about a question, private, and questions to proctors', async () => {
    await startExam(ada, alan);
    const monitor = new SseReader(await chief.request('GET', `${EXAM}/monitor`));
    await monitor.waitFor((e) => e.event === 'snapshot');
    const adaStream = new SseReader(await ada.get('/api/exam/events'));
    const alanStream = new SseReader(await alan.get('/api/exam/events'));

    await chief.json('POST', `${EXAM}/messages`, { text: 'Twenty minutes left.' });
    await invi.json('POST', `${EXAM}/messages`, { text: 'In q3 use the 2019 value.', questionId: 'q3' });
    await invi.json('POST', `${EXAM}/messages`, { text: 'Ada, please sit in seat B2.', studentId: 'S1' });
    const ask = await appliance.app.request('/api/exam/messages', {
      method: 'POST',
      headers: alan.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ text: 'Is a calculator allowed?', questionId: 'q3' }),
    });
    expect(ask.status).toBe(201);

    const text = (e: { data: unknown }) => (e.data as { text: string }).text;
    await adaStream.waitFor((e) => e.event === 'message' && text(e) === 'Twenty minutes left.');
    await adaStream.waitFor((e) => e.event === 'message' && text(e) === 'In q3 use the 2019 value.');
    await adaStream.waitFor((e) => e.event === 'message' && text(e) === 'Ada, please sit in seat B2.');
    await alanStream.waitFor((e) => e.event === 'message' && text(e) === 'In q3 use the 2019 value.');
    await monitor.waitFor((e) => e.event === 'message' && text(e) === 'Is a calculator allowed?');
    // Private messages reach only their examinee; examinees' questions reach only proctors.
    const alansMessages = await (await alan.get('/api/exam/messages')).json();
    expect(JSON.stringify(alansMessages)).not.toContain('seat B2');
    expect(JSON.stringify(await (await ada.get('/api/exam/messages')).json())).not.toContain('calculator');
    const all = await invi.json<{ messages: { text: string; audience: string; questionId: string | null }[] }>(
      'GET',
      `${EXAM}/messages`,
    );
    expect(all.messages.map((m) => [m.audience, m.questionId])).toEqual([
      ['all', null],
      ['all', 'q3'],
      ['examinee', null],
      ['proctors', 'q3'],
    ]);
    for (const s of [monitor, adaStream, alanStream]) await s.close();
  });

  it('keeps staff messages among proctors: never on an examinee’s stream or in their messages', async () => {
    await startExam(ada);
    const monitor = new SseReader(await invi.request('GET', `${EXAM}/monitor`));
    await monitor.waitFor((e) => e.event === 'snapshot');
    const adaStream = new SseReader(await ada.get('/api/exam/events'));
    const staff = await chief.request('POST', `${EXAM}/messages`, { text: 'Seat B2 needs a look.', audience: 'staff' });
    expect(staff.status).toBe(201);
    await chief.json('POST', `${EXAM}/messages`, { text: 'Ten minutes left.' });

    const text = (e: { data: unknown }) => (e.data as { text: string }).text;
    await monitor.waitFor((e) => e.event === 'message' && text(e) === 'Seat B2 needs a look.');
    // The announcement sent after it arrives; the staff message never did.
    await adaStream.waitFor((e) => e.event === 'message' && text(e) === 'Ten minutes left.');
    expect(JSON.stringify(adaStream.events)).not.toContain('Seat B2');
    expect(JSON.stringify(await (await ada.get('/api/exam/messages')).json())).not.toContain('Seat B2');
    const all = await invi.json<{ messages: { text: string; audience: string; studentId: string | null }[] }>(
      'GET',
      `${EXAM}/messages`,
    );
    expect(all.messages.filter((m) => m.audience === 'staff')).toMatchObject([
      { text: 'Seat B2 needs a look.', studentId: null },
    ]);
    for (const s of [monitor, adaStream]) await s.close();
  });
});

describe('session report', () => {
  it('exports the participants with every column as CSV and the event log as verifiable JSON lines', async () => {
    await startExam(ada);
    await ada.submit(ada.answerFile({ q1: 'a' }));
    const csv = await (await invi.request('GET', `${EXAM}/report.csv`)).text();
    const [header, ...lines] = csv.trim().split('\r\n');
    expect(header?.split(',')).toEqual(
      expect.arrayContaining([
        'studentId',
        'name',
        'status',
        'downloads',
        'uploadedAt',
        'submissionType',
        'closedScore',
        'integrityScore',
      ]),
    );
    // The columns added later come last, so that a reader of the older report still finds its own.
    expect(header?.split(',').slice(-4)).toEqual(['examineeId', 'proctoringType', 'snapshots', 'snapshotProblems']);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^S1,Ada Lovelace,/);
    expect(csv).not.toContain('ada@example.org');
    const jsonl = await (await invi.request('GET', `${EXAM}/events.jsonl`)).text();
    const events = jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Parameters<typeof verifyChain>[0][number]);
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(verifyChain(events)).toBeUndefined();
  });
});

describe('resume codes over HTTP', () => {
  it('issues a code for the challenge on a locked screen that works once, only for its examinee; 5 wrong tries lock', async () => {
    await startExam(ada, alan);
    const triplesOf = async (c: ExamineeClient) =>
      ((await (await c.get('/api/exam/resume-challenges')).json()) as { triples: ResumeTriple[] }).triples;
    const [first, second] = await triplesOf(ada);
    const [alansFirst] = await triplesOf(alan);
    if (!first || !second || !alansFirst) throw new Error('no triples');
    const redeem = (c: ExamineeClient, challenge: string, resumeCode: string) =>
      appliance.app.request('/api/exam/resume', {
        method: 'POST',
        headers: c.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ challenge, resumeCode }),
      });
    const code = (r: Response) => r.json().then((b) => (b as { error?: { code: string } }).error?.code);

    // The proctor types the continuation code shown on Ada's screen.
    const issued = await invi.json<{ resumeCode: string }>('POST', `${EXAM}/participants/S1/resume-code`, {
      challenge: formatChallenge(first.challenge),
    });
    expect(await verifyResumeCodeOffline(first, issued.resumeCode, pbkdf2Sha256Js)).toBe(true); // on the device, no network
    expect(await verifyResumeCodeOffline(first, 'AAAAA-AAAAA', pbkdf2Sha256Js)).toBe(false);
    // Only for its examinee and exam: Alan's challenge under Ada's name is refused.
    const wrongExaminee = await invi.request('POST', `${EXAM}/participants/S1/resume-code`, {
      challenge: alansFirst.challenge,
    });
    expect({ status: wrongExaminee.status, code: await code(wrongExaminee) }).toEqual({
      status: 422,
      code: 'resume-challenge-unknown',
    });
    expect((await redeem(alan, first.challenge, issued.resumeCode)).status).toBe(422);
    // Works once.
    expect((await redeem(ada, first.challenge, issued.resumeCode)).status).toBe(200);
    const again = await redeem(ada, first.challenge, issued.resumeCode);
    expect({ status: again.status, code: await code(again) }).toEqual({ status: 409, code: 'resume-challenge-used' });
    const reissue = await invi.request('POST', `${EXAM}/participants/S1/resume-code`, { challenge: first.challenge });
    expect(reissue.status).toBe(409);
    // Five wrong tries lock the next challenge; then even its right code is refused.
    const secondCode = await invi.json<{ resumeCode: string }>('POST', `${EXAM}/participants/S1/resume-code`, {
      challenge: second.challenge,
    });
    for (let i = 0; i < 5; i++)
      expect((await redeem(ada, second.challenge, `00000-0000${i}`)).status).toBe(i < 4 ? 403 : 409);
    const locked = await redeem(ada, second.challenge, secondCode.resumeCode);
    expect({ status: locked.status, code: await code(locked) }).toEqual({
      status: 409,
      code: 'resume-challenge-locked',
    });
    // Every issue is an event, with the proctor who asked.
    await appliance.store.flushIndex();
    const issues = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'resume-code-issued');
    expect(issues.map((e) => [e.studentId, e.actor])).toEqual([
      ['S1', { role: 'proctor', username: 'invi' }],
      ['S1', { role: 'proctor', username: 'invi' }],
    ]);
    expect((await row('S1')).resumeCodesIssued).toBe(2);
  });

  it('shows an examinee whose device locked as Locked until a resume code is used', async () => {
    await startExam(ada);
    const [first] = ((await (await ada.get('/api/exam/resume-challenges')).json()) as { triples: ResumeTriple[] })
      .triples;
    if (!first) throw new Error('no triples');
    const lock = (reason: string) =>
      appliance.app.request('/api/exam/lock', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ reason }),
      });
    expect((await lock('coffee')).status).toBe(400);
    expect((await lock('reload')).status).toBe(201);
    expect((await lock('reload')).status).toBe(201); // a repeat writes nothing
    expect(await row('S1')).toMatchObject({ status: 'locked' });
    const issued = await invi.json<{ resumeCode: string }>('POST', `${EXAM}/participants/S1/resume-code`, {
      challenge: first.challenge,
    });
    expect(await row('S1')).toMatchObject({ status: 'locked' });
    const used = await appliance.app.request('/api/exam/resume', {
      method: 'POST',
      headers: ada.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ challenge: first.challenge, resumeCode: issued.resumeCode }),
    });
    expect(used.status).toBe(200);
    expect(await row('S1')).toMatchObject({ status: 'active' });
    await appliance.store.flushIndex();
    const locks = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'exam-locked');
    expect(locks).toHaveLength(1);
  });
});

describe('integrity report and verification photos', () => {
  it('shows a proctor the examinee’s events and the photos they sent', async () => {
    await chief.json('POST', `${EXAM}/participants/S1/verification-mode`, { mode: 'camera' });
    await startExamWithoutKey(ada);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7]);
    const sent = await appliance.app.request('/api/exam/verification/photo?kind=id-card', {
      method: 'POST',
      headers: ada.headers({ 'content-type': 'image/png', 'x-content-sha256': sha256Hex(png) }),
      body: png,
    });
    expect(sent.status).toBe(201);
    const photo = await invi.request('GET', `${EXAM}/participants/S1/verification-photos/${sha256Hex(png)}`);
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await photo.arrayBuffer())).toEqual(png);
    // Another examinee's photo address is not a way in.
    expect((await invi.request('GET', `${EXAM}/participants/S2/verification-photos/${sha256Hex(png)}`)).status).toBe(
      404,
    );
    const { events } = await invi.json<{ events: { kind: string }[] }>('GET', `${EXAM}/participants/S1/events`);
    expect(events.map((e) => e.kind)).toEqual([
      'verification-mode-set',
      'examinee-signed-in',
      'package-downloaded',
      'verification-photo-submitted',
    ]);
  });
});

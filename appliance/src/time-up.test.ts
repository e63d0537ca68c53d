import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import type { ParticipantRow } from '../../domain/monitor.js';
import type { ReceiptV2 } from './crypto/receipts.js';
import { parsePublicKey, verifyReceipt } from './crypto/receipts.js';
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
const T0 = Date.parse('2026-06-01T08:00:00Z');
const START = T0 + 30 * MIN;
const DEADLINE = START + 60 * MIN; // S1 and S3 (S2 has +50 %)
const EXAM = '/api/proctor/exams/exam-1';

interface TimeUpView {
  submission: { submissionId: string; timing: string; late: boolean; differingAnswers: number | null } | null;
  timeUp: {
    differingQuestions: { id: string; prompt: string }[];
    unseenMs: number | null;
    decision: { choice: string; by: string } | null;
    answersAtTimeUp: { sha256: string; answers: Record<string, unknown> };
    submittedFile: { sha256: string; answers: Record<string, unknown> };
  } | null;
}

let appliance: TestAppliance;
let clock: FakeClock;
let chief: ProctorClient;
let invi: ProctorClient;

beforeEach(async () => {
  clock = new FakeClock(T0);
  appliance = await openTestAppliance(clock, { exam: testExam(START) });
  await addTestProctors(appliance);
  chief = new ProctorClient(appliance.app);
  invi = new ProctorClient(appliance.app);
  await chief.login('chief', 'chief-password-1');
  await invi.login('invi', 'invi-password-1');
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

async function started(studentId: string, code: string): Promise<ExamineeClient> {
  const examinee = new ExamineeClient(appliance.app, studentId, code);
  clock.set(T0);
  expect((await examinee.signIn()).status).toBe(200);
  expect((await examinee.get('/api/exam/package')).status).toBe(200);
  clock.set(START);
  expect((await examinee.get('/api/exam/key')).status).toBe(200);
  return examinee;
}

const row = async (studentId: string) =>
  (await chief.json<{ row: ParticipantRow }>('GET', `${EXAM}/participants/${studentId}`)).row;
const receiptOf = async (res: Response) => ((await res.json()) as { receipt: ReceiptV2 }).receipt;
const eventKinds = async () => (await appliance.store.examEvents('exam-1')).map((e) => e.kind);

describe('time-up over HTTP', () => {
  it('an online automatic submission 0.3 s after the deadline is on time, sealed at time-up', async () => {
    const ada = await started('S1', 'AAAA1111BBBB');
    clock.set(DEADLINE - 2_000);
    expect((await ada.putDraft(1, { q1: 'a' })).status).toBe(200); // heard 2 s before the deadline
    clock.set(DEADLINE + 300);
    const res = await ada.submit(ada.answerFile({ q1: 'a', q2: true }), { type: 'automatic' });
    expect(res.status).toBe(201);
    const receipt = await receiptOf(res);
    expect(receipt.payload).toMatchObject({
      format: 'receipt/v2',
      timing: 'sealed-at-time-up',
      submissionType: 'automatic',
    });
    const key = (await (await appliance.app.request('/api/receipt-key')).json()) as { pem: string };
    expect(verifyReceipt(receipt, parsePublicKey(key.pem))).toMatchObject({ ok: true });
    expect(await row('S1')).toMatchObject({ late: false, timing: 'sealed-at-time-up', changedAfterTimeUp: false });
  });

  it('an open event stream at the deadline counts as connected, even with no request in the last 10 s', async () => {
    const ada = await started('S1', 'AAAA1111BBBB');
    clock.set(DEADLINE - 5 * MIN);
    const stream = new SseReader(await ada.get('/api/exam/events'));
    await stream.waitFor(() => true);
    clock.set(DEADLINE + 50_000);
    const res = await ada.submit(ada.answerFile({ q1: 'b' }), { type: 'automatic' });
    expect((await receiptOf(res)).payload.timing).toBe('sealed-at-time-up');
    await stream.close();
  });

  it('an old receipt (receipt/v1) still verifies', async () => {
    const signer = appliance.store.receiptSigner;
    const v2 = signer.sign({
      format: 'receipt/v2',
      applianceId: 'a',
      hallId: 'h',
      examId: 'exam-1',
      studentId: 'S1',
      submissionId: 'submission:exam-1:S1:1',
      n: 1,
      sha256: 'a'.repeat(64),
      size: 1,
      submissionType: 'manual',
      receivedAt: new Date(T0).toISOString(),
      timing: 'on-time',
    });
    // A v1 payload signed the way v1 receipts were: the same fields without timing.
    const { timing: _timing, ...rest } = v2.payload;
    const v1Payload = { ...rest, format: 'receipt/v1' as const };
    const v1 = { ...signer.sign(v1Payload as never), payload: v1Payload };
    expect(verifyReceipt(v1, signer.publicKey)).toMatchObject({ ok: true });
    expect(verifyReceipt({ ...v1, payload: { ...v1Payload, timing: 'late' } }, signer.publicKey).ok).toBe(false);
  });

  it('a device unseen at the deadline whose answers equal its last autosave: on time, sealed offline', async () => {
    const ada = await started('S1', 'AAAA1111BBBB');
    clock.set(DEADLINE - 5 * MIN);
    expect((await ada.putDraft(3, { q1: 'a', q4: 'Entropy grows.' })).status).toBe(200);
    clock.set(DEADLINE + 20 * MIN); // came back long after: the upload deadline is still ahead
    const res = await ada.submit(ada.answerFile({ q1: 'a', q4: 'Entropy grows.' }), { type: 'automatic' });
    expect(res.status).toBe(201);
    expect((await receiptOf(res)).payload.timing).toBe('sealed-offline');
    expect(await row('S1')).toMatchObject({ late: false, timing: 'sealed-offline', changedAfterTimeUp: false });
    expect(await eventKinds()).not.toContain('time-up-answers-kept');
  });

  it('a device unseen at the deadline that edited afterwards: kept, flagged, both versions shown, a chief decides', async () => {
    const ada = await started('S1', 'AAAA1111BBBB');
    clock.set(DEADLINE - 5 * MIN);
    expect((await ada.putDraft(3, { q1: 'a', q4: 'Entropy grows.' })).status).toBe(200);
    // Back 30 s after the deadline: its autosave of the edits is taken, but the draft held at the
    // deadline was kept first.
    clock.set(DEADLINE + 30_000);
    expect((await ada.putDraft(4, { q1: 'b', q4: 'Entropy grows. Edited offline.' })).status).toBe(200);
    clock.set(DEADLINE + 40_000);
    const edited = ada.answerFile({ q1: 'b', q4: 'Entropy grows. Edited offline.' });
    const res = await ada.submit(edited, { type: 'automatic' });
    expect(res.status).toBe(201);
    const receipt = await receiptOf(res);
    expect(receipt.payload.timing).toBe('changed-after-time-up');
    expect(await row('S1')).toMatchObject({
      late: false,
      timing: 'changed-after-time-up',
      changedAfterTimeUp: true,
      timeUp: { differingAnswers: 2, unseenMs: 5 * MIN + 40_000, decision: null },
    });
    // The submitted file is kept, and so is the draft held at the deadline (as a blob the sync carries).
    expect((await appliance.store.blobs.read(receipt.payload.sha256)).toString('utf8')).toBe(edited);
    const events = await appliance.store.examEvents('exam-1');
    const kept = events.find((e) => e.kind === 'time-up-answers-kept');
    expect(kept?.data).toMatchObject({ differingQuestions: ['q1', 'q4'], submittedSha256: receipt.payload.sha256 });
    expect(events.find((e) => e.kind === 'submission-accepted')?.data).toMatchObject({
      timing: 'changed-after-time-up',
      differingAnswers: 2,
      unseenMs: 5 * MIN + 40_000,
    });

    const view = await invi.json<TimeUpView>('GET', `${EXAM}/participants/S1/time-up`);
    expect(view.submission).toMatchObject({ timing: 'changed-after-time-up', differingAnswers: 2 });
    expect(view.timeUp).toMatchObject({
      differingQuestions: [
        { id: 'q1', prompt: expect.stringContaining('sodium') as unknown },
        { id: 'q4', prompt: 'Explain entropy.' },
      ],
      answersAtTimeUp: { answers: { q1: 'a', q4: 'Entropy grows.' } },
      submittedFile: { answers: { q1: 'b', q4: 'Entropy grows. Edited offline.' } },
      decision: null,
    });
    const submissionId = view.submission!.submissionId;

    // An invigilator may look, not decide.
    const url = `${EXAM}/participants/S1/time-up-decision`;
    const denied = await invi.request('POST', url, { submissionId, choice: 'answers-at-time-up' });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 'forbidden-role' } });

    const decided = await chief.json<{ row: ParticipantRow }>('POST', url, {
      submissionId,
      choice: 'answers-at-time-up',
      note: 'edited after the bell',
    });
    expect(decided.row.timeUp).toMatchObject({ decision: 'answers-at-time-up' });
    expect(decided.row.changedAfterTimeUp).toBe(true);
    const again = await chief.request('POST', url, { submissionId, choice: 'submitted-file' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'time-up-already-decided' } });
    const after = await appliance.store.examEvents('exam-1');
    expect(after.filter((e) => e.kind === 'time-up-decided').map((e) => e.data)).toEqual([
      { submissionId, choice: 'answers-at-time-up', note: 'edited after the bell' },
    ]);
    expect((await invi.json<TimeUpView>('GET', `${EXAM}/participants/S1/time-up`)).timeUp?.decision).toMatchObject({
      choice: 'answers-at-time-up',
      by: 'chief',
    });
  });

  it('keeps the draft held at the deadline across a restart', async () => {
    const ada = await started('S1', 'AAAA1111BBBB');
    clock.set(DEADLINE - MIN);
    await ada.putDraft(2, { q1: 'a' });
    clock.set(DEADLINE + 10_000);
    await ada.putDraft(3, { q1: 'b' }); // keeps the draft at the deadline first
    const { dataDir } = appliance;
    await appliance.close();
    appliance = await openTestAppliance(clock, { exam: testExam(START), dataDir });
    const entry = appliance.store.projection.examinee('exam-1', 'S1');
    expect(entry?.timeUp).toMatchObject({ n: 1, deadline: DEADLINE, heldDraft: true });
    const again = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    await again.signIn();
    const res = await again.submit(again.answerFile({ q1: 'b' }), { type: 'automatic' });
    expect((await receiptOf(res)).payload.timing).toBe('changed-after-time-up');
  });

  it('refuses bad decisions with a clear 4xx and changes nothing', async () => {
    const ada = await started('S1', 'AAAA1111BBBB');
    const grace = await started('S3', 'EEEE3333FFFF');
    clock.set(DEADLINE - MIN);
    await grace.putDraft(1, { q1: 'a' });
    const onTime = await receiptOf(await ada.submit(ada.answerFile({ q1: 'a' })));
    clock.set(DEADLINE + 5 * MIN);
    const sealed = await receiptOf(await grace.submit(grace.answerFile({ q1: 'a' }), { type: 'automatic' }));
    expect(sealed.payload.timing).toBe('sealed-offline');
    const before = (await appliance.store.examEvents('exam-1')).length;
    const post = (p: string, body: unknown) =>
      chief.request('POST', `${EXAM}/participants/${p}/time-up-decision`, body);
    const cases: Array<[Response | Promise<Response>, number, string]> = [
      [
        post('S1', { submissionId: onTime.payload.submissionId, choice: 'submitted-file' }),
        409,
        'not-compared-at-time-up',
      ],
      [
        post('S3', { submissionId: sealed.payload.submissionId, choice: 'submitted-file' }),
        409,
        'not-changed-after-time-up',
      ],
      [post('S1', { submissionId: 'submission:exam-1:S1:9', choice: 'submitted-file' }), 404, 'submission-not-found'],
      [
        post('S3', { submissionId: onTime.payload.submissionId, choice: 'submitted-file' }),
        404,
        'submission-not-found',
      ],
      [
        post('NOPE', { submissionId: onTime.payload.submissionId, choice: 'submitted-file' }),
        404,
        'examinee-not-found',
      ],
      [
        chief.request('POST', '/api/proctor/exams/nope/participants/S1/time-up-decision', {
          submissionId: 'x',
          choice: 'submitted-file',
        }),
        404,
        'exam-not-found',
      ],
      [post('S1', { submissionId: onTime.payload.submissionId, choice: 'both' }), 400, 'validation-failed'],
      [post('S1', { submissionId: 7, choice: 'submitted-file' }), 400, 'validation-failed'],
      [post('S1', { submissionId: onTime.payload.submissionId }), 400, 'validation-failed'],
      [post('S1', { submissionId: 'x', choice: 'submitted-file', extra: 1 }), 400, 'validation-failed'],
      [
        appliance.app.request(`${EXAM}/participants/S1/time-up-decision`, {
          method: 'POST',
          headers: { cookie: chief.cookie ?? '', origin: 'http://localhost', 'content-type': 'application/json' },
          body: '{"submissionId":',
        }),
        400,
        'invalid-json',
      ],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect({ status: res.status, body: await res.json() }).toMatchObject({ status, body: { error: { code } } });
    }
    expect((await appliance.store.examEvents('exam-1')).length).toBe(before);
    // Before any submission the view says so.
    const s2 = await appliance.app.request(`${EXAM}/participants/S2/time-up`, {
      headers: { cookie: chief.cookie ?? '' },
    });
    expect(await s2.json()).toEqual({ submission: null, timeUp: null });
  });
});

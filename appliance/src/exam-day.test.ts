import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { sha256HexOfText } from '../../domain/canonical.js';
import { verifyChain } from '../../domain/events.js';
import { openExamPackage, deriveExamKey } from './crypto/exam-package.js';
import { START_HOLD_MS } from './exam-day/lobby.js';
import type { ExamPackage } from '../../domain/exam-package.js';
import { parsePublicKey, verifyReceipt, type Receipt } from './crypto/receipts.js';
import {
  ExamineeClient,
  openTestAppliance,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const MIN = 60_000;

/** Response bodies as tests read them: any member may be there or not. */
interface Loose {
  [key: string]: Loose | string | number | boolean | null | undefined;
}
interface ExamInfo {
  status: string;
  schedule: { officialStart: string; deadline: string };
  countdown: { msUntilStart: number };
  downloads: { used: number; max: number; left: number };
}
const codeOf = (body: Loose) => (body.error as Loose | undefined)?.code;
const T0 = Date.parse('2026-06-01T08:00:00Z');

describe('an examinee’s exam day over HTTP, on disk', () => {
  let appliance: TestAppliance | undefined;
  afterEach(async () => {
    if (appliance) {
      await appliance.close();
      await removeDir(appliance.dataDir);
      appliance = undefined;
    }
  });

  it('walks sign-in → download → key at start → drafts → submission → verified receipt', async () => {
    const clock = new FakeClock(T0);
    const start = T0 + 30 * MIN;
    appliance = await openTestAppliance(clock, { exam: testExam(start) });
    const { app, store, examDay } = appliance;
    const ada = new ExamineeClient(app, 'S1', 'aaaa-1111-bbbb'); // typed with dashes and lower case

    const signIn = await ada.signIn();
    expect(signIn.status).toBe(200);
    expect(await signIn.json()).toMatchObject({ examId: 'exam-1', status: 'logged-in', waitingForApproval: false });

    const info = (await (await ada.get('/api/exam')).json()) as ExamInfo;
    expect(info.status).toBe('logged-in');
    expect(info.schedule.officialStart).toBe(new Date(start).toISOString());
    expect(info.countdown.msUntilStart).toBe(30 * MIN);
    expect(info.downloads).toMatchObject({ used: 0, max: 2, left: 2 });

    // Download inside the window: encrypted, counted.
    const download = await ada.get('/api/exam/package');
    expect(download.status).toBe(200);
    expect(download.headers.get('x-downloads-left')).toBe('1');
    const pkgText = await download.text();
    expect(pkgText).not.toContain('SECRET-PROMPT-MARKER');
    const pkg = JSON.parse(pkgText) as ExamPackage;

    // Before the start there is no key.
    const early = await ada.get('/api/exam/key');
    expect(early.status).toBe(403);
    expect(codeOf((await early.json()) as Loose)).toBe('exam-not-started');

    // At the official start the key is released; it opens the package; the exam has no answer keys.
    clock.set(start);
    const keyRes = await ada.get('/api/exam/key');
    expect(keyRes.status).toBe(200);
    const { key } = (await keyRes.json()) as { key: string };
    const exam = openExamPackage(pkg, Buffer.from(key, 'base64'));
    expect(exam.sections[0]?.questions[0]?.prompt).toContain('SECRET-PROMPT-MARKER');
    expect(JSON.stringify(exam)).not.toContain('answerKey');
    // The exam password the proctor reads out derives the same key (a start without network).
    const secret = await examDay.packages.secret('exam-1');
    const fromPassword = await deriveExamKey(
      secret.password.toLowerCase(),
      Buffer.from(pkg.kdf.salt, 'base64'),
      pkg.kdf.iterations,
    );
    expect(fromPassword.toString('base64')).toBe(key);
    expect(((await (await ada.get('/api/exam')).json()) as Loose).status).toBe('active');

    // Autosaves: the latest counter wins; an older one is refused and changes nothing.
    clock.advance(5 * MIN);
    expect((await ada.putDraft(1, { q1: 'b' })).status).toBe(200);
    const saved = await ada.putDraft(2, { q1: 'a', q2: true });
    expect(await saved.json()).toEqual({ counter: 2, answered: 2, total: 5 });
    const stale = await ada.putDraft(1, { q1: 'b' });
    expect(stale.status).toBe(409);
    const draft = (await (await ada.get('/api/exam/draft')).json()) as Loose;
    expect(draft).toMatchObject({ counter: 2, answers: { q1: 'a', q2: true } });

    // Submission: answered with a signed receipt that verifies against the appliance key.
    clock.advance(20 * MIN);
    const body = ada.answerFile({ q1: 'a', q2: true, q3: 23, q4: 'Disorder tends to grow.' });
    const submit = await ada.submit(body);
    expect(submit.status).toBe(201);
    const { receipt } = (await submit.json()) as { receipt: Receipt };
    expect(receipt.payload).toMatchObject({ examId: 'exam-1', studentId: 'S1', n: 1, submissionType: 'manual' });
    const keyInfo = (await (await app.request('/api/receipt-key')).json()) as { pem: string };
    expect(verifyReceipt(receipt, parsePublicKey(keyInfo.pem))).toMatchObject({ ok: true });
    const forged = { ...receipt, payload: { ...receipt.payload, sha256: '0'.repeat(64) } };
    expect(verifyReceipt(forged, parsePublicKey(keyInfo.pem)).ok).toBe(false);

    // A retry of the same file is idempotent: same receipt, no new submission.
    const retry = await ada.submit(body);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as Loose).receipt).toEqual(receipt);
    expect(((await (await ada.get('/api/exam')).json()) as Loose).status).toBe('submitted');

    // The stored answer file is byte-for-byte what was sent; closed questions are graded.
    expect((await store.blobs.read(receipt.payload.sha256)).toString('utf8')).toBe(body);
    expect(await examDay.closedScore('exam-1', receipt.payload.sha256)).toMatchObject({ score: 4, maxScore: 4 });

    // Every step is a hash-chained event, stored in PouchDB.
    await store.flushIndex();
    const events = await store.examEvents('exam-1');
    expect(events.map((e) => e.kind)).toEqual([
      'examinee-signed-in',
      'package-downloaded',
      'exam-started',
      'submission-accepted',
    ]);
    expect(verifyChain(events)).toBeUndefined();
    expect(await store.submission(receipt.payload.submissionId)).toMatchObject({
      sha256: receipt.payload.sha256,
      receipt,
    });
  });

  /** Ada signed in, with the package downloaded, half an hour before an exam's start. */
  async function inTheLobby() {
    const clock = new FakeClock(T0);
    const start = T0 + 30 * MIN;
    appliance = await openTestAppliance(clock, { exam: testExam(start) });
    const ada = new ExamineeClient(appliance.app, 'S1', 'aaaa-1111-bbbb');
    await ada.signIn();
    await ada.get('/api/exam/package');
    return { clock, start, ada, appliance };
  }

  it('holds a key request made a moment before the start until the start, and refuses one made earlier', async () => {
    const { clock, start, ada } = await inTheLobby();

    clock.set(start - START_HOLD_MS - 1_000); // too early to hold: refused at once
    const refused = await ada.get('/api/exam/key');
    expect(refused.status).toBe(403);
    expect(codeOf((await refused.json()) as Loose)).toBe('exam-not-started');

    clock.set(start - 300); // a device whose clock estimate is a little ahead
    let answered = false;
    const held = ada.get('/api/exam/key').then((res) => {
      answered = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false); // held, not refused
    clock.set(start);
    const res = await held;
    expect(res.status).toBe(200);
    expect(((await res.json()) as Loose).startedAt).toBe(new Date(start).toISOString());
  });

  it('starts the exam once when several held key requests of one examinee are answered together', async () => {
    const { clock, start, ada, appliance: box } = await inTheLobby();
    clock.set(start - 200);
    const held = Array.from({ length: 5 }, () => ada.get('/api/exam/key'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.set(start);
    const answers = await Promise.all(held);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await box.store.flushIndex();
    const events = await box.store.examEvents('exam-1');
    expect(events.filter((e) => e.kind === 'exam-started')).toHaveLength(1);
    expect(verifyChain(events)).toBeUndefined();
  });

  it('survives a restart: sessions, downloads, submissions and the chain continue', async () => {
    const clock = new FakeClock(T0);
    appliance = await openTestAppliance(clock, { exam: testExam(T0) });
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    await ada.signIn();
    await ada.get('/api/exam/package');
    await ada.get('/api/exam/key');
    const receipt = ((await (await ada.submit(ada.answerFile({ q1: 'a' }))).json()) as { receipt: Receipt }).receipt;
    const dataDir = appliance.dataDir;
    await appliance.close();

    appliance = await openTestAppliance(clock, { dataDir });
    const again = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    again.token = ada.token; // the old token is still good: sessions live in the event log
    const info = (await (await again.get('/api/exam')).json()) as Loose;
    expect(info).toMatchObject({ status: 'submitted', downloads: { used: 1 } });
    expect(((await (await again.get('/api/exam/submission')).json()) as Loose).receipt).toEqual(receipt);
    const grace = new ExamineeClient(appliance.app, 'S3', 'EEEE3333FFFF');
    expect((await grace.signIn()).status).toBe(200);
    await appliance.store.flushIndex();
    const events = await appliance.store.examEvents('exam-1');
    expect(events).toHaveLength(5);
    expect(verifyChain(events)).toBeUndefined();
  });

  it('allows exactly max downloads under 50 concurrent requests from one examinee', async () => {
    const clock = new FakeClock(T0);
    appliance = await openTestAppliance(clock, { exam: testExam(T0 + 10 * MIN) });
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB'); // maxDownloads 2
    await ada.signIn();
    const responses = await Promise.all(Array.from({ length: 50 }, () => ada.get('/api/exam/package')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 403)).toHaveLength(48);
    const codes = await Promise.all(
      responses.filter((r) => r.status === 403).map(async (r) => codeOf((await r.json()) as Loose)),
    );
    expect(new Set(codes)).toEqual(new Set(['download-limit-reached']));
    await appliance.store.flushIndex();
    const downloads = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'package-downloaded');
    expect(downloads.map((e) => (e.data as { downloadNo: number }).downloadNo)).toEqual([1, 2]);
  });

  it('binds the session to one device: a second device waits for a proctor', async () => {
    const clock = new FakeClock(T0);
    appliance = await openTestAppliance(clock, { exam: testExam(T0 + 10 * MIN) });
    const laptop = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'laptop-0123456789abcdef');
    const phone = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'phone-0123456789abcdefg');
    expect((await laptop.signIn()).status).toBe(200);
    const second = await phone.signIn();
    expect(second.status).toBe(202);
    expect(await second.json()).toMatchObject({ waitingForApproval: true, status: 'waiting-relogin' });
    // The pending device can poll its state but do nothing else.
    expect(((await (await phone.get('/api/session')).json()) as Loose).waitingForApproval).toBe(true);
    const blocked = await phone.get('/api/exam/package');
    expect(blocked.status).toBe(403);
    expect(codeOf((await blocked.json()) as Loose)).toBe('session-pending-approval');
    // The first device keeps working.
    expect((await laptop.get('/api/exam')).status).toBe(200);
  });

  it('takes files for file questions, and an answer may name only its own examinee’s files', async () => {
    const clock = new FakeClock(T0);
    appliance = await openTestAppliance(clock, { exam: testExam(T0) });
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    const alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
    for (const c of [ada, alan]) {
      await c.signIn();
      await c.get('/api/exam/package');
      await c.get('/api/exam/key');
    }
    const pdf = '%PDF-1.7 lab report by Ada';
    const uploaded = await ada.uploadFile(pdf, 'Lab report — Ada.pdf');
    expect(uploaded.status).toBe(201);
    const ref = (await uploaded.json()) as { sha256: string; size: number; name: string };
    expect(ref).toEqual({ sha256: sha256HexOfText(pdf), size: Buffer.byteLength(pdf), name: 'Lab report — Ada.pdf' });
    expect((await ada.uploadFile(pdf, 'Lab report — Ada.pdf')).status).toBe(200); // a retry
    expect((await appliance.store.blobs.read(ref.sha256)).toString('utf8')).toBe(pdf);

    // Ada's answers may name her file; Alan's may not (wrong owner), neither in a draft nor a submission.
    expect((await ada.putDraft(1, { q5: [ref] })).status).toBe(200);
    const stolen = await alan.putDraft(1, { q5: [ref] });
    expect(stolen.status).toBe(404);
    expect(codeOf((await stolen.json()) as Loose)).toBe('file-not-found');
    const stolenSubmit = await alan.submit(alan.answerFile({ q5: [ref] }));
    expect(stolenSubmit.status).toBe(404);
    expect((await ada.submit(ada.answerFile({ q5: [ref] }))).status).toBe(201);

    // Wrong type, extension and size are refused.
    expect((await alan.uploadFile('x', 'notes.docx')).status).toBe(400);
    expect((await alan.uploadFile('x', 'notes.pdf', 'q1')).status).toBe(400);
    expect((await alan.uploadFile('x'.repeat(1024 * 1024 + 1), 'big.pdf')).status).toBe(413);
    await appliance.store.flushIndex();
    const uploads = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'file-uploaded');
    expect(uploads).toHaveLength(1);
  });

  it('takes answers from an examinee who started offline with the exam password', async () => {
    const clock = new FakeClock(T0 - 10 * MIN);
    appliance = await openTestAppliance(clock, { exam: testExam(T0) });
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    await ada.signIn();
    await ada.get('/api/exam/package'); // then the network went down: no key release
    expect((await ada.putDraft(1, { q1: 'a' })).status).toBe(409); // not before the official start
    clock.set(T0 + 20 * MIN);
    expect((await ada.putDraft(1, { q1: 'a' })).status).toBe(200);
    expect((await ada.submit(ada.answerFile({ q1: 'a' }))).status).toBe(201);
    await appliance.store.flushIndex();
    const events = await appliance.store.examEvents('exam-1');
    expect(events.map((e) => e.kind)).toEqual([
      'examinee-signed-in',
      'package-downloaded',
      'exam-started',
      'submission-accepted',
    ]);
    expect(events[2]?.data).toEqual({ via: 'exam-password' });
  });

  it('applies the accommodation to the deadline and refuses a submission after the cutoff', async () => {
    const clock = new FakeClock(T0);
    const exam = testExam(T0, { uploadDeadline: undefined });
    appliance = await openTestAppliance(clock, { exam });
    const alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD'); // +50 %
    await alan.signIn();
    await alan.get('/api/exam/package');
    await alan.get('/api/exam/key');
    const info = (await (await alan.get('/api/exam')).json()) as ExamInfo;
    expect(info.schedule.deadline).toBe(new Date(T0 + 90 * MIN).toISOString());
    clock.set(T0 + 90 * MIN + 61_000); // past deadline + 60 s grace, no upload deadline
    const late = await alan.submit(alan.answerFile({ q1: 'a' }), { type: 'automatic' });
    expect(late.status).toBe(403);
    expect(codeOf((await late.json()) as Loose)).toBe('exam-time-over');
    clock.set(T0 + 90 * MIN + 30_000); // inside the grace: accepted
    const ok = await alan.submit(alan.answerFile({ q1: 'a' }), { type: 'automatic' });
    expect(ok.status).toBe(201);
    await appliance.store.flushIndex();
    const accepted = (await appliance.store.examEvents('exam-1')).find((e) => e.kind === 'submission-accepted');
    // Unseen since the start and no autosave held at the deadline: an answer appeared after time-up.
    expect(accepted?.data).toMatchObject({
      submissionType: 'automatic',
      late: false,
      timing: 'changed-after-time-up',
      differingAnswers: 1,
    });
  });
});

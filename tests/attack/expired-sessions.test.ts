/**
 * Sessions end: an examinee's token carries its issue time and ends an hour after their exam's
 * upload window (before that a late device is told precisely why nothing more is taken); a
 * proctor session ends after its idle time and its absolute lifetime. Each ended session gets
 * 401 `session-expired`, on every kind of route, and changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import {
  addTestProctors,
  ExamineeClient,
  openTestAppliance,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../support/appliance.js';

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
/** testExam: the upload deadline is two hours after the start. */
const UPLOAD_DEADLINE = START + 120 * MIN;
let appliance: TestAppliance;
let clock: FakeClock;

beforeEach(async () => {
  clock = new FakeClock(START - 20 * MIN);
  appliance = await openTestAppliance(clock, { exam: testExam(START) });
  await addTestProctors(appliance);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

const codeOf = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

describe('expired sessions', () => {
  it('ends an examinee token an hour after the upload window, everywhere, with a clear code', async () => {
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    const claims = JSON.parse(Buffer.from(ada.token!.split('.')[0]!, 'base64url').toString('utf8')) as { i: number };
    expect(claims.i).toBe(Math.floor((START - 20 * MIN) / 1000));
    expect((await ada.get('/api/exam/package')).status).toBe(200);
    clock.set(START);
    expect((await ada.get('/api/exam/key')).status).toBe(200);

    // Just after the upload window: the precise refusal, not a signed-out device.
    clock.set(UPLOAD_DEADLINE + MIN);
    expect(await codeOf(await ada.submit(ada.answerFile({ q1: 'a' })))).toBe('upload-deadline-passed');
    expect((await ada.get('/api/exam')).status).toBe(200);

    clock.set(UPLOAD_DEADLINE + 61 * MIN);
    const before = (await appliance.store.examEvents('exam-1')).length;
    for (const res of [
      await ada.get('/api/exam'),
      await ada.get('/api/exam/draft'),
      await ada.get('/api/exam/events'),
      await ada.putDraft(9, { q1: 'b' }),
      await ada.submit(ada.answerFile({ q1: 'b' })),
      await appliance.app.request('/api/exam/integrity', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ type: 'paste' }),
      }),
    ]) {
      expect(res.status).toBe(401);
      expect(await codeOf(res)).toBe('session-expired');
    }
    await appliance.store.flushIndex();
    expect((await appliance.store.examEvents('exam-1')).length).toBe(before);
  });

  it('ends a proctor session after its idle time and after its lifetime', async () => {
    const chief = new ProctorClient(appliance.app);
    expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
    clock.advance(119 * MIN);
    expect((await chief.request('GET', '/api/proctor/exams')).status).toBe(200);
    clock.advance(121 * MIN);
    const idle = await chief.request('PATCH', '/api/proctor/exams/exam-1/settings', { extraMinutes: 5 });
    expect([idle.status, await codeOf(idle)]).toEqual([401, 'session-expired']);
    // Then it is gone: nothing was changed, and the next request is plainly signed out.
    expect((await chief.request('GET', '/api/proctor/me')).status).toBe(401);
    const exam = appliance.store.projection.exams.get('exam-1')!;
    expect(appliance.services.monitor.examInfo(exam).editable.extraMinutes).toBe(0);

    const invi = new ProctorClient(appliance.app);
    expect((await invi.login('invi', 'invi-password-1')).status).toBe(200);
    for (let h = 0; h < 14; h++) {
      expect((await invi.request('GET', '/api/proctor/me')).status).toBe(200);
      clock.advance(60 * MIN);
    }
    clock.advance(1);
    const old = await invi.request('GET', '/api/proctor/exams/exam-1/monitor');
    expect([old.status, await codeOf(old)]).toEqual([401, 'session-expired']);
  });
});

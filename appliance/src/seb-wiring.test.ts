/**
 * Safe Exam Browser through the whole appliance: an exam that requires SEB refuses an ordinary
 * browser at sign-in and on every exam route (recording why, without flooding the log), accepts
 * SEB started from the appliance's own .seb file, and gives proctors that file and its Config Key.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { requestHash } from '../../domain/seb.js';
import { examFileSchema } from '../../domain/exam-format.js';
import { configKeyOf } from './http/seb.js';
import {
  addTestProctors,
  CLIENT_VERSION,
  ExamineeClient,
  openTestAppliance,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const START = Date.parse('2026-06-01T09:00:00Z');
let appliance: TestAppliance;

beforeEach(async () => {
  const base = testExam(START);
  const exam = examFileSchema.parse({
    ...base,
    settings: { ...base.settings, safeExamBrowser: { required: true, quitPassword: 'let-me-out' } },
  });
  appliance = await openTestAppliance(new FakeClock(START - 10 * 60_000), { exam });
  await addTestProctors(appliance);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

/** Headers SEB (started from the appliance's .seb) adds to a request for `path`. */
function sebHeaders(path: string): Record<string, string> {
  const exam = appliance.store.projection.exams.get('exam-1')?.doc;
  if (!exam) throw new Error('no exam');
  const configKey = configKeyOf(exam, 'http://localhost/');
  return { 'x-safeexambrowser-configkeyhash': requestHash(`http://localhost${path}`, configKey) };
}

describe('Safe Exam Browser', () => {
  it('refuses an ordinary browser, records why once, and lets SEB in', async () => {
    const signIn = (headers: Record<string, string>) =>
      appliance.app.request('/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-client-version': CLIENT_VERSION, ...headers },
        body: JSON.stringify({ studentId: 'S1', accessCode: 'AAAA1111BBBB', deviceId: 'seb-device-0123456789' }),
      });
    for (let i = 0; i < 3; i++) {
      const refused = await signIn({});
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('seb-required');
    }
    // A hash made for another URL does not pass either.
    expect(
      (
        await signIn({
          'x-safeexambrowser-configkeyhash': sebHeaders('/api/other')['x-safeexambrowser-configkeyhash'] ?? '',
        })
      ).status,
    ).toBe(403);
    const ok = await signIn(sebHeaders('/api/session'));
    expect(ok.status).toBe(200);
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB', 'seb-device-0123456789');
    ada.token = ((await ok.json()) as { token: string }).token;
    expect((await ada.get('/api/exam')).status).toBe(403);
    const inSeb = await appliance.app.request('/api/exam', { headers: ada.headers(sebHeaders('/api/exam')) });
    expect(inSeb.status).toBe(200);
    await appliance.store.flushIndex();
    const refusals = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'seb-refused');
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(refusals.length).toBeLessThanOrEqual(4); // three identical refusals at sign-in count once
    expect(refusals[0]).toMatchObject({ studentId: 'S1', data: { path: '/api/session' } });
  });

  it('gives proctors the .seb file and its Config Key, but never examinees', async () => {
    const invi = new ProctorClient(appliance.app);
    await invi.login('invi', 'invi-password-1');
    const file = await invi.request('GET', '/api/proctor/exams/exam-1/seb-config');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/application\/seb/);
    const plist = await file.text();
    expect(plist).toMatch(/^<\?xml/);
    expect(plist).toContain('<key>startURL</key>');
    expect(plist).not.toContain('let-me-out');
    const info = await invi.json<{ configKey: string; required: boolean }>('GET', '/api/proctor/exams/exam-1/seb');
    const exam = appliance.store.projection.exams.get('exam-1')?.doc;
    expect(info).toMatchObject({ required: true, configKey: exam ? configKeyOf(exam, 'http://localhost/') : 'x' });
    // The package examinees download carries neither the quit password nor the keys.
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    expect((await ada.get('/api/proctor/exams/exam-1/seb')).status).toBe(401);
  });
});

/**
 * Who may call the proctor API: nobody without a proctor session (an examinee's token is not
 * one), only this appliance's own pages (Origin), chief-only actions only for chiefs, wrong
 * passwords limited per username and address, sessions ending at logout, expiry and account removal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { CHIEF_ONLY_ACTIONS } from '../../domain/proctor-roles.js';
import { DEVICE_COOKIE_MAX_DAYS, PROCTOR_DEVICE_COOKIE } from './proctors/devices.js';
import { SESSION_IDLE_MS } from './proctors/sessions.js';
import {
  addTestProctors,
  CLIENT_VERSION,
  ExamineeClient,
  openTestAppliance,
  ORIGIN,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const START = Date.parse('2026-06-01T09:00:00Z');
let appliance: TestAppliance;
let clock: FakeClock;

beforeEach(async () => {
  clock = new FakeClock(START - 20 * 60_000);
  appliance = await openTestAppliance(clock, { exam: testExam(START) });
  await addTestProctors(appliance);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

/** Every proctor route Hono knows, with its parameters filled in. */
function proctorRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>();
  return appliance.app.routes
    .filter((r) => r.path.startsWith('/api/proctor/') && r.method !== 'ALL' && !r.path.endsWith('*'))
    .map((r) => ({ method: r.method, path: r.path.replace(':examId', 'exam-1').replace(':studentId', 'S1') }))
    .filter((r) => {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

describe('proctor API authorization', () => {
  it('answers every proctor route 401 without a session and with an examinee’s session', async () => {
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    const routes = proctorRoutes().filter((r) => r.path !== '/api/proctor/login');
    expect(routes.length).toBeGreaterThanOrEqual(25);
    for (const r of routes) {
      for (const [who, headers] of [
        ['nobody', {}],
        ['examinee', { authorization: `Bearer ${ada.token ?? ''}`, 'x-client-version': CLIENT_VERSION }],
        ['forged cookie', { cookie: '__Host-proctor=AAAAAAAAAAAAAAAAAAAAAA' }],
      ] as const) {
        const res = await appliance.app.request(r.path, {
          method: r.method,
          headers: { ...headers, origin: ORIGIN, 'content-type': 'application/json' },
          ...(r.method === 'GET' ? {} : { body: '{}' }),
        });
        expect({ route: `${r.method} ${r.path}`, who, status: res.status }).toEqual({
          route: `${r.method} ${r.path}`,
          who,
          status: 401,
        });
      }
    }
  });

  it('refuses every chief-only action to an invigilator, and lets a chief do it', async () => {
    const invi = new ProctorClient(appliance.app);
    const chief = new ProctorClient(appliance.app);
    expect((await invi.login('invi', 'invi-password-1')).status).toBe(200);
    expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
    const CHIEF_ROUTES: Array<[string, string, string, unknown]> = [
      ['exam-settings', 'PATCH', '/api/proctor/exams/exam-1/settings', { extraMinutes: 5 }],
      ['verification-passwords', 'POST', '/api/proctor/exams/exam-1/verification-passwords', { count: 2 }],
      ['clock', 'POST', '/api/proctor/clock', { action: 'confirm' }],
      ['accommodation', 'POST', '/api/proctor/exams/exam-1/participants/S1/accommodation', { percent: 25 }],
      ['verification-mode', 'POST', '/api/proctor/exams/exam-1/participants/S1/verification-mode', { mode: 'camera' }],
      ['proctoring', 'POST', '/api/proctor/exams/exam-1/participants/S1/proctoring', { type: 'camera' }],
      // Before the start (this test's clock): the paper and the exam password are the chief's.
      ['preview-before-start', 'GET', '/api/proctor/exams/exam-1/preview', undefined],
      ['exam-password', 'GET', '/api/proctor/exams/exam-1/exam-password', undefined],
      [
        'remove-submission',
        'POST',
        '/api/proctor/exams/exam-1/participants/S1/remove-submission',
        { reason: 'by mistake' },
      ],
      [
        'time-up-decision',
        'POST',
        '/api/proctor/exams/exam-1/participants/S1/time-up-decision',
        { submissionId: 'submission:exam-1:S1:1', choice: 'submitted-file' },
      ],
    ];
    expect(new Set(CHIEF_ROUTES.map(([name]) => name))).toEqual(CHIEF_ONLY_ACTIONS);
    for (const [name, method, path, body] of CHIEF_ROUTES) {
      const before = (await appliance.store.examEvents('exam-1')).length;
      const refused = await invi.request(method, path, body);
      expect({
        name,
        status: refused.status,
        code: ((await refused.json()) as { error: { code: string } }).error.code,
      }).toEqual({
        name,
        status: 403,
        code: 'forbidden-role',
      });
      await appliance.store.flushIndex();
      expect((await appliance.store.examEvents('exam-1')).length).toBe(before);
    }
    // The chief may (remove-submission answers 409 here: S1 has nothing to remove, and
    // time-up-decision 404: S1 has no submission to decide on; but neither is 403).
    for (const [name, method, path, body] of CHIEF_ROUTES) {
      const res = await chief.request(method, path, body);
      expect({ name, status: res.status }).toEqual({
        name,
        status: name === 'remove-submission' ? 409 : name === 'time-up-decision' ? 404 : res.status === 201 ? 201 : 200,
      });
    }
  });

  it('refuses state-changing requests without this appliance’s Origin', async () => {
    const chief = new ProctorClient(appliance.app);
    await chief.login('chief', 'chief-password-1');
    for (const origin of [undefined, 'http://evil.example', 'null', 'http://localhost:9999']) {
      const res = await appliance.app.request('/api/proctor/exams/exam-1/participants/S1/time-extension', {
        method: 'POST',
        headers: {
          cookie: chief.cookie ?? '',
          'content-type': 'application/json',
          ...(origin === undefined ? {} : { origin }),
        },
        body: JSON.stringify({ minutes: 10 }),
      });
      expect({ origin, status: res.status }).toEqual({ origin, status: 403 });
    }
    // Login itself too (no login CSRF).
    const login = await appliance.app.request('/api/proctor/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ username: 'chief', password: 'chief-password-1' }),
    });
    expect(login.status).toBe(403);
  });

  it('sets a __Host- cookie that is Secure, HttpOnly and SameSite=Strict', async () => {
    const res = await new ProctorClient(appliance.app).login('chief', 'chief-password-1');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-proctor=[A-Za-z0-9_-]{22};/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Domain=/);
  });

  it('sets a __Host- device cookie beside it, kept for months', async () => {
    const res = await new ProctorClient(appliance.app).login('chief', 'chief-password-1');
    const device = res.headers.getSetCookie().find((c) => c.startsWith(`${PROCTOR_DEVICE_COOKIE}=`)) ?? '';
    expect(device).toMatch(/; Secure/);
    expect(device).toMatch(/; HttpOnly/);
    expect(device).toMatch(/; SameSite=Strict/);
    expect(device).toMatch(/; Path=\//);
    expect(device).toMatch(new RegExp(`; Max-Age=${DEVICE_COOKIE_MAX_DAYS * 24 * 3600}`));
    expect(device).not.toMatch(/Domain=/);
  });

  it('refuses wrong passwords per username and address (tests/attack/brute-force.test.ts has the rest)', async () => {
    const p = new ProctorClient(appliance.app);
    for (let i = 0; i < 5; i++) expect((await p.login('chief', `wrong-password-${i}`)).status).toBe(401);
    expect((await p.login('chief', 'chief-password-1')).status).toBe(429);
    clock.advance(16 * 60_000);
    expect((await p.login('chief', 'chief-password-1')).status).toBe(200);
  });

  it('ends sessions at logout, after idling, and when the account is removed', async () => {
    const p = new ProctorClient(appliance.app);
    await p.login('invi', 'invi-password-1');
    expect((await p.request('GET', '/api/proctor/me')).status).toBe(200);
    expect((await p.request('POST', '/api/proctor/logout')).status).toBe(200);
    expect((await p.request('GET', '/api/proctor/me')).status).toBe(401);

    await p.login('invi', 'invi-password-1');
    clock.advance(SESSION_IDLE_MS + 1);
    const idle = await p.request('GET', '/api/proctor/me');
    expect(idle.status).toBe(401);
    expect(((await idle.json()) as { error: { code: string } }).error.code).toBe('session-expired');
    // A busy session still ends at its absolute lifetime (a request every hour for 14 hours).
    await p.login('invi', 'invi-password-1');
    for (let h = 0; h < 14; h++) {
      expect((await p.request('GET', '/api/proctor/me')).status).toBe(200);
      clock.advance(60 * 60_000);
    }
    clock.advance(1);
    const old = await p.request('GET', '/api/proctor/me');
    expect(((await old.json()) as { error: { code: string } }).error.code).toBe('session-expired');
    expect((await p.request('GET', '/api/proctor/me')).status).toBe(401);

    await p.login('invi', 'invi-password-1');
    await appliance.services.accounts.remove('invi');
    expect((await p.request('GET', '/api/proctor/me')).status).toBe(401);
  });
});

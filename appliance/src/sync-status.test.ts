/**
 * GET /api/sync/status: the dashboard's Sync status tab. Proctors only; until sync with the
 * central server is built, the appliance says it is not set up, in the shape the tab expects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
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
  appliance = await openTestAppliance(new FakeClock(START - 20 * 60_000), { exam: testExam(START) });
  await addTestProctors(appliance);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

describe('GET /api/sync/status', () => {
  it('tells a signed-in proctor (chief or invigilator) that sync is not set up', async () => {
    for (const [username, password] of [
      ['chief', 'chief-password-1'],
      ['invi', 'invi-password-1'],
    ] as const) {
      const proctor = new ProctorClient(appliance.app);
      expect((await proctor.login(username, password)).status).toBe(200);
      const res = await proctor.request('GET', '/api/sync/status');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({
        configured: false,
        state: 'off',
        lastSuccessAt: null,
        lastContactAt: null,
        pending: null,
        lastError: null,
        refused: [],
        refusedCount: 0,
      });
    }
  });

  it('answers 401 to nobody, to a forged cookie, to an examinee and after logout', async () => {
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    const callers: Record<string, string>[] = [
      {},
      { cookie: '__Host-proctor=AAAAAAAAAAAAAAAAAAAAAA' },
      { authorization: `Bearer ${ada.token ?? ''}`, 'x-client-version': CLIENT_VERSION },
    ];
    for (const headers of callers) {
      const res = await appliance.app.request('/api/sync/status', { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    }
    const proctor = new ProctorClient(appliance.app);
    await proctor.login('chief', 'chief-password-1');
    expect((await proctor.request('GET', '/api/sync/status')).status).toBe(200);
    expect((await proctor.request('POST', '/api/proctor/logout')).status).toBe(200);
    expect((await proctor.request('GET', '/api/sync/status')).status).toBe(401);
  });

  it('ends the session of a removed account at once', async () => {
    const proctor = new ProctorClient(appliance.app);
    await proctor.login('invi', 'invi-password-1');
    await appliance.services.accounts.remove('invi');
    expect((await proctor.request('GET', '/api/sync/status')).status).toBe(401);
  });
});

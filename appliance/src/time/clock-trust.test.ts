import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../domain/clock.js';
import {
  addTestProctors,
  ExamineeClient,
  openTestAppliance,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../../tests/support/appliance.js';
import { ClockTrust, type TimeSyncState } from './clock-trust.js';

const MIN = 60_000;
const T0 = Date.parse('2026-06-01T08:00:00Z');

const dirs: string[] = [];
let appliance: TestAppliance | undefined;
afterEach(async () => {
  if (appliance) {
    await appliance.close();
    await removeDir(appliance.dataDir);
    appliance = undefined;
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'clock-test-'));
  dirs.push(d);
  return d;
}

function probe(initial: TimeSyncState) {
  const p = { state: initial, asked: 0, fn: async () => (p.asked++, p.state) };
  return p;
}

describe('the appliance clock’s trust', () => {
  it('auto: trusted once NTP is synchronised, and it stays so', async () => {
    const ntp = probe('unsynchronised');
    const clock = await ClockTrust.open({ base: new FakeClock(T0), mode: 'auto', probe: ntp.fn, bootId: 'b1' });
    expect(clock.status()).toMatchObject({ trusted: false, source: 'unsynchronised' });
    ntp.state = 'synchronised';
    expect(await clock.refresh()).toMatchObject({ trusted: true, source: 'ntp' });
    ntp.state = 'unsynchronised';
    expect(await clock.refresh()).toMatchObject({ trusted: true, source: 'ntp' });
  });

  it('auto on a machine without systemd (a laptop, this container) counts as trusted, and says so', async () => {
    const logs: string[] = [];
    const clock = await ClockTrust.open({
      base: new FakeClock(T0),
      mode: 'auto',
      probe: probe('unavailable').fn,
      log: (_l, line) => logs.push(line),
    });
    expect(clock.status()).toMatchObject({ trusted: true, source: 'no-time-sync-service' });
    expect(logs.join('\n')).toMatch(/counts as trusted/);
  });

  it('warns that NTP is not synchronised when it first sees it, then hourly, not at every check', async () => {
    const logs: string[] = [];
    const base = new FakeClock(T0);
    const clock = await ClockTrust.open({
      base,
      mode: 'auto',
      probe: probe('unsynchronised').fn,
      log: (_l, line) => logs.push(line),
    });
    const warnings = () => logs.filter((l) => l.includes('not synchronised')).length;
    // An hour of checks every 15 s: one warning.
    for (let i = 0; i < 239; i++) {
      await clock.refresh();
      base.advance(15_000);
    }
    expect(warnings()).toBe(1);
    base.advance(15_000);
    await clock.refresh();
    expect(warnings()).toBe(2);
  });

  it('trusted and untrusted settings override NTP', async () => {
    const synced = probe('synchronised');
    expect((await ClockTrust.open({ base: new FakeClock(T0), mode: 'untrusted', probe: synced.fn })).trusted).toBe(
      false,
    );
    const never = probe('unsynchronised');
    const trusted = await ClockTrust.open({ base: new FakeClock(T0), mode: 'trusted', probe: never.fn });
    expect(trusted.status()).toMatchObject({ trusted: true, source: 'configured' });
    expect(never.asked).toBe(0);
  });

  it('set applies an offset (the system clock is not touched), kept across a restart in the same boot only', async () => {
    const dataDir = await tempDir();
    const base = new FakeClock(T0);
    const open = (bootId: string) =>
      ClockTrust.open({ base, mode: 'auto', probe: probe('unsynchronised').fn, dataDir, bootId });
    const clock = await open('boot-1');
    const done = await clock.set(T0 + 90 * MIN, 'chief');
    expect(done.ok).toBe(true);
    expect(clock.now()).toBe(T0 + 90 * MIN);
    expect(clock.status()).toMatchObject({
      trusted: true,
      source: 'proctor-set',
      offsetMs: 90 * MIN,
      confirmedBy: 'chief',
    });
    base.advance(MIN);
    expect(clock.now()).toBe(T0 + 91 * MIN);
    expect(((await stat(path.join(dataDir, 'clock.json'))).mode & 0o777).toString(8)).toBe('600');

    const restarted = await open('boot-1');
    expect(restarted.status()).toMatchObject({ trusted: true, source: 'proctor-set', offsetMs: 90 * MIN });
    const rebooted = await open('boot-2');
    expect(rebooted.status()).toMatchObject({ trusted: false, offsetMs: 0 });
  });

  it('NTP synchronising drops a proctor’s offset; set is refused while NTP keeps the clock', async () => {
    const ntp = probe('unsynchronised');
    const base = new FakeClock(T0);
    const clock = await ClockTrust.open({ base, mode: 'auto', probe: ntp.fn });
    await clock.set(T0 + 5 * MIN, 'chief');
    ntp.state = 'synchronised';
    await clock.refresh();
    expect(clock.now()).toBe(T0);
    expect((await clock.set(T0 + 5 * MIN, 'chief')).ok).toBe(false);
  });

  it('tells listeners when it becomes trusted (the certificate is then checked again)', async () => {
    const clock = await ClockTrust.open({
      base: new FakeClock(T0),
      mode: 'untrusted',
      probe: probe('unsynchronised').fn,
    });
    const seen: boolean[] = [];
    clock.onChange((s) => seen.push(s.trusted));
    await clock.confirm('chief');
    expect(seen).toEqual([true]);
  });
});

describe('POST /api/proctor/clock and the exam start on an untrusted clock', () => {
  async function hall() {
    const base = new FakeClock(T0);
    const dataDir = await tempDir();
    const clockTrust = await ClockTrust.open({
      base,
      mode: 'auto',
      probe: probe('unsynchronised').fn,
      dataDir,
      bootId: 'boot-1',
    });
    const start = T0 + 10 * MIN;
    appliance = await openTestAppliance(base, { exam: testExam(start), clockTrust, dataDir });
    await addTestProctors(appliance);
    const chief = new ProctorClient(appliance.app);
    expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
    const invigilator = new ProctorClient(appliance.app);
    expect((await invigilator.login('invi', 'invi-password-1')).status).toBe(200);
    return { base, clockTrust, start, app: appliance.app, chief, invigilator, store: appliance.store };
  }
  const code = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

  it('GET /api/time says whether the clock is trusted', async () => {
    const { app } = await hall();
    const res = await app.request('/api/time');
    expect(await res.json()).toMatchObject({ now: T0, trusted: false, source: 'unsynchronised' });
  });

  it('is for chief proctors only: examinee 401, invigilator 403, foreign origin 403, bad bodies 400', async () => {
    const { app, invigilator, chief } = await hall();
    const anonymous = await app.request('/api/proctor/clock', {
      method: 'POST',
      headers: { origin: 'http://localhost', 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'confirm' }),
    });
    expect(anonymous.status).toBe(401);
    const ada = new ExamineeClient(app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    const asExaminee = await app.request('/api/proctor/clock', {
      method: 'POST',
      headers: ada.headers({ origin: 'http://localhost', 'content-type': 'application/json' }),
      body: JSON.stringify({ action: 'confirm' }),
    });
    expect(asExaminee.status).toBe(401);
    const asInvigilator = await invigilator.request('POST', '/api/proctor/clock', { action: 'confirm' });
    expect(asInvigilator.status).toBe(403);
    expect(await code(asInvigilator)).toBe('forbidden-role');
    const crossSite = await app.request('/api/proctor/clock', {
      method: 'POST',
      headers: { origin: 'http://evil.example', cookie: chief.cookie!, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'confirm' }),
    });
    expect(crossSite.status).toBe(403);
    expect(await code(crossSite)).toBe('origin-mismatch');
    for (const body of [
      {},
      { action: 'reboot' },
      { action: 'set' },
      { action: 'set', now: 'tomorrow' },
      { action: 'set', now: 0 },
      { action: 'set', now: 1.5 },
      { action: 'confirm', now: T0 },
      [],
    ]) {
      const res = await chief.request('POST', '/api/proctor/clock', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(await (await app.request('/api/time')).json()).toMatchObject({ trusted: false });
  });

  it('refuses to open the exam until a chief confirms the time, then opens it; the confirmation is in the log', async () => {
    const { app, base, start, chief, store } = await hall();
    const ada = new ExamineeClient(app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    expect((await ada.get('/api/exam/package')).status).toBe(200);
    base.set(start + MIN);
    const refused = await ada.get('/api/exam/key');
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('clock-not-trusted');
    expect(body.error.message).toMatch(/clock has not been confirmed yet/);

    const confirmed = await chief.request('POST', '/api/proctor/clock', { action: 'confirm' });
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ trusted: true, source: 'proctor-confirmed' });
    expect((await ada.get('/api/exam/key')).status).toBe(200);
    const events = await store.examEvents('exam-1');
    expect(events.find((e) => e.kind === 'clock-confirmed')).toMatchObject({
      actor: { role: 'proctor', username: 'chief' },
      data: { action: 'confirm', offsetMs: 0 },
    });
  });

  it('set takes the proctor device’s time: the exam opens on the corrected clock', async () => {
    const { app, start, chief, clockTrust, store } = await hall();
    const ada = new ExamineeClient(app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    expect((await ada.get('/api/exam/package')).status).toBe(200);
    // The box booted 20 minutes behind; the chief's tablet knows better.
    const res = await chief.request('POST', '/api/proctor/clock', { action: 'set', now: start + MIN });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ now: start + MIN, trusted: true, source: 'proctor-set' });
    expect(clockTrust.now()).toBe(start + MIN);
    expect((await ada.get('/api/exam/key')).status).toBe(200);
    const saved = JSON.parse(await readFile(path.join(store.dataDir, 'clock.json'), 'utf8')) as { offsetMs: number };
    expect(saved.offsetMs).toBe(11 * MIN);
  });

  it('set forward by hours signs no proctor out: live sessions move with the clock', async () => {
    const { chief, invigilator, clockTrust, base } = await hall();
    // The box booted 5 hours behind (past the 2-hour idle time and near the 14-hour lifetime).
    const res = await chief.request('POST', '/api/proctor/clock', { action: 'set', now: base.now() + 5 * 60 * MIN });
    expect(res.status).toBe(200);
    expect(clockTrust.status().offsetMs).toBe(5 * 60 * MIN);
    expect((await invigilator.request('GET', '/api/proctor/me')).status).toBe(200);
    expect((await chief.request('GET', '/api/proctor/me')).status).toBe(200);
    // The idle time still counts from the last request, on the new clock.
    base.advance(121 * MIN);
    expect((await invigilator.request('GET', '/api/proctor/me')).status).toBe(401);
  });
});

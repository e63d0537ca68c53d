/**
 * Exam-wide settings a proctor changes on Exam info (over app.request()): allowed examinee
 * networks (a sign-in from outside is refused with a clear 403, the proctor sees it on the row and
 * in the examinee's events), the default verification type, and a wrong verification password on
 * the row. Bad settings get a 400 and change nothing.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import type { ExamInfo, ParticipantRow } from '../../domain/monitor.js';
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

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
const EXAM = '/api/proctor/exams/exam-1';
let appliance: TestAppliance;
let chief: ProctorClient;
let invi: ProctorClient;

/** A sign-in as the PWA sends it, from a given network address (Node's socket, as served). */
async function signInFrom(address: string, studentId = 'S1', accessCode = 'AAAA1111BBBB') {
  const env = { incoming: { socket: { remoteAddress: address } } as unknown as IncomingMessage };
  const res = await appliance.app.request(
    '/api/session',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-client-version': CLIENT_VERSION,
      },
      body: JSON.stringify({ studentId, accessCode, deviceId: `device-${studentId}-0123456789abcdef` }),
    },
    env,
  );
  return {
    status: res.status,
    body: (await res.json()) as { error?: { code: string; message: string; detail?: string } },
  };
}

const info = () => chief.json<ExamInfo>('GET', EXAM);
const row = async (studentId: string) =>
  (await chief.json<{ row: ParticipantRow }>('GET', `${EXAM}/participants/${studentId}`)).row;
async function patch(body: unknown, as = chief): Promise<{ status: number; body: unknown }> {
  const res = await as.request('PATCH', `${EXAM}/settings`, body);
  return { status: res.status, body: await res.json() };
}

beforeEach(async () => {
  appliance = await openTestAppliance(new FakeClock(START - 20 * MIN), { exam: testExam(START) });
  await addTestProctors(appliance);
  chief = new ProctorClient(appliance.app);
  invi = new ProctorClient(appliance.app);
  expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
  expect((await invi.login('invi', 'invi-password-1')).status).toBe(200);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

describe('allowed examinee networks', () => {
  it('lets everyone in with none set; with ranges, refuses a sign-in from outside and tells the proctor', async () => {
    expect((await info()).editable.allowedNetworks).toEqual([]);
    expect((await signInFrom('203.0.113.9', 'S2', 'CCCC2222DDDD')).status).toBe(200);

    const edited = await patch({ allowedNetworks: ['10.20.0.0/16', ' fd00:e8::/32 ', '10.20.0.0/16'] });
    expect(edited.status).toBe(200);
    expect((await info()).editable.allowedNetworks).toEqual(['10.20.0.0/16', 'fd00:e8::/32']);

    const outside = await signInFrom('::ffff:10.30.1.5');
    expect(outside.status).toBe(403);
    expect(outside.body.error).toMatchObject({ code: 'network-not-allowed', detail: 'sign-in from ::ffff:10.30.1.5' });
    expect(outside.body.error!.message).toContain('network this exam does not allow');
    // Retrying does not fill the log: one event per examinee and address in 5 minutes.
    expect((await signInFrom('::ffff:10.30.1.5')).status).toBe(403);
    await appliance.store.flushIndex();
    const refused = (await appliance.store.examEvents('exam-1')).filter((e) => e.kind === 'network-refused');
    expect(refused.map((e) => [e.studentId, e.data])).toEqual([['S1', { address: '::ffff:10.30.1.5' }]]);
    const r = await row('S1');
    expect(r.networkRefusedFrom).toBe('::ffff:10.30.1.5');
    expect(r.status).toBe('not-started');

    // Inside a range (IPv4 on a dual-stack socket, and IPv6): in.
    expect((await signInFrom('::ffff:10.20.7.1')).status).toBe(200);
    expect((await signInFrom('fd00:e8::42', 'S3', 'EEEE3333FFFF')).status).toBe(200);
    // Wrong access code from outside: the usual refusal, nothing about networks.
    expect((await signInFrom('10.30.1.5', 'S3', 'WRONGWRONG12')).body.error?.code).toBe('invalid-credentials');

    // Cleared again: everyone in.
    expect((await patch({ allowedNetworks: [] })).status).toBe(200);
    expect((await signInFrom('198.51.100.1', 'S2', 'CCCC2222DDDD')).status).toBe(200);
  });

  it('refuses bad ranges with a 400 that names them, and changes nothing', async () => {
    expect((await patch({ allowedNetworks: ['10.20.0.0/16'] })).status).toBe(200);
    for (const [body, says] of [
      [{ allowedNetworks: ['hall wifi'] }, '"hall wifi" is not an address range'],
      [{ allowedNetworks: ['10.20.1.0/16'] }, 'the range starts at 10.20.0.0/16'],
      [{ allowedNetworks: ['10.0.0.0/33'] }, 'prefix length from 0 to 32'],
      [{ allowedNetworks: Array.from({ length: 33 }, (_, i) => `10.${i}.0.0/16`) }, 'at most 32 address ranges'],
      [{ allowedNetworks: ['1'.repeat(65)] }, 'at most 64 characters'],
      [{ allowedNetworks: '10.0.0.0/8' }, ''],
      [{ allowedNetworks: [10] }, ''],
      [{ verificationMode: 'retina' }, ''],
    ] as const) {
      const res = await patch(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body as { error: { detail?: string } }).error.detail ?? '').toContain(says);
    }
    expect((await info()).editable.allowedNetworks).toEqual(['10.20.0.0/16']);
    expect((await patch({ allowedNetworks: ['10.0.0.0/8'] })).status).toBe(200);
    // An invigilator may not change them.
    expect((await patch({ allowedNetworks: [] }, invi)).status).toBe(403);
    expect((await info()).editable.allowedNetworks).toEqual(['10.0.0.0/8']);
  });
});

describe('verification on Exam info', () => {
  it('changes the default verification type for examinees without their own', async () => {
    expect((await info()).verificationMode).toBe('manual');
    expect((await patch({ verificationMode: 'password' })).status).toBe(200);
    const now = await info();
    expect(now.verificationMode).toBe('password');
    expect(now.editable.verificationMode).toBe('password');
    expect((await row('S1')).verificationMode).toBe('password');
  });

  it('shows wrong verification passwords on the row', async () => {
    expect((await patch({ verificationMode: 'password' })).status).toBe(200);
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    expect((await row('S1')).wrongVerificationPasswords).toBe(0);
    for (let i = 0; i < 2; i++) {
      const res = await appliance.app.request('/api/exam/verification/password', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ password: 'NOTRIGHT' }),
      });
      expect(res.status).toBe(403);
    }
    expect((await row('S1')).wrongVerificationPasswords).toBe(2);
  });
});

/**
 * Brute-force limits: wrong access codes per student id and per network address, wrong proctor
 * passwords per username and per address, and wrong resume codes (a challenge locks at the
 * fifth). The right secret is refused once a limit is reached, another address or id is not
 * affected, and the window (15 minutes) ends the block. The network address is what Node reports
 * for the socket (`c.env.incoming.socket.remoteAddress`), given here per request.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { CODE_ALPHABET } from '../../domain/codes.js';
import { RESUME_CODE_LENGTH, RESUME_WRONG_TRIES } from '../../domain/resume-codes.js';
import { SIGN_IN_ATTEMPTS_PER_ADDRESS } from '../../appliance/src/exam-day.js';
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
} from '../support/appliance.js';

const START = Date.parse('2026-06-01T09:00:00Z');
const MIN = 60_000;
/** openTestAppliance's PROCTOR_SIGN_IN_ATTEMPTS. */
const PER_STUDENT = 10;

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

/** A request as if from `address` (what Node's socket would report). */
const from = (address: string, path: string, init: RequestInit) =>
  appliance.app.request(path, init, { incoming: { socket: { remoteAddress: address } } });

const signIn = async (address: string, studentId: string, accessCode: string, device = 'device-0123456789abcdef') => {
  const res = await from(address, '/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-version': CLIENT_VERSION },
    body: JSON.stringify({ studentId, accessCode, deviceId: `${device}-${studentId}` }),
  });
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
};

const login = async (address: string, username: string, password: string) => {
  const res = await from(address, '/api/proctor/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
};

describe('examinee sign-in', () => {
  it(`locks a student id after ${PER_STUDENT} wrong access codes, from any address, for 15 minutes`, async () => {
    for (let i = 0; i < PER_STUDENT; i++)
      expect(await signIn(`10.0.0.${i + 1}`, 'S1', `WRONG${i}CODE`)).toEqual({
        status: 401,
        code: 'invalid-credentials',
      });
    // The right code is refused now, from a fresh address too; another student is not affected.
    expect(await signIn('10.0.1.1', 'S1', 'AAAA1111BBBB')).toEqual({ status: 429, code: 'too-many-attempts' });
    expect((await signIn('10.0.1.1', 'S2', 'CCCC2222DDDD')).status).toBe(200);
    clock.advance(15 * MIN + 1);
    expect((await signIn('10.0.1.1', 'S1', 'AAAA1111BBBB')).status).toBe(200);
  });

  it(`locks an address after ${SIGN_IN_ATTEMPTS_PER_ADDRESS} wrong access codes across student ids`, async () => {
    // One device guessing across the roster (and beyond it): each id gets few tries.
    for (let i = 0; i < SIGN_IN_ATTEMPTS_PER_ADDRESS; i++) {
      const r = await signIn('10.0.0.66', `X${i}`, 'GUESSGUESS12');
      expect(r).toEqual({ status: 401, code: 'invalid-credentials' });
    }
    expect(await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB')).toEqual({ status: 429, code: 'too-many-attempts' });
    expect(await signIn('10.0.0.66', 'X999', 'GUESSGUESS12')).toEqual({ status: 429, code: 'too-many-attempts' });
    // The examinees at other addresses sign in as usual.
    expect((await signIn('10.0.0.67', 'S1', 'AAAA1111BBBB')).status).toBe(200);
    clock.advance(15 * MIN + 1);
    expect((await signIn('10.0.0.66', 'S2', 'CCCC2222DDDD')).status).toBe(200);
  });
});

describe('proctor login', () => {
  it('locks a username after 5 wrong passwords, from any address', async () => {
    for (let i = 0; i < 5; i++)
      expect(await login(`10.0.2.${i + 1}`, 'chief', `wrong-${i}`)).toEqual({
        status: 401,
        code: 'proctor-login-failed',
      });
    expect(await login('10.0.3.1', 'chief', 'chief-password-1')).toEqual({ status: 429, code: 'too-many-attempts' });
    expect((await login('10.0.3.1', 'invi', 'invi-password-1')).status).toBe(200);
    clock.advance(15 * MIN + 1);
    expect((await login('10.0.3.1', 'chief', 'chief-password-1')).status).toBe(200);
  });

  it('locks an address after 30 wrong passwords across usernames', async () => {
    for (let i = 0; i < 30; i++) expect((await login('10.0.4.4', `user${i}`, 'wrong-password')).status).toBe(401);
    expect(await login('10.0.4.4', 'invi', 'invi-password-1')).toEqual({ status: 429, code: 'too-many-attempts' });
    expect((await login('10.0.4.5', 'invi', 'invi-password-1')).status).toBe(200);
  });
});

describe('resume codes', () => {
  it(`lock a challenge at the ${RESUME_WRONG_TRIES}th wrong code; the proctor's code is then refused too`, async () => {
    expect(RESUME_WRONG_TRIES).toBe(5);
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    expect((await ada.signIn()).status).toBe(200);
    expect((await ada.get('/api/exam/package')).status).toBe(200);
    clock.set(START + 5 * MIN);
    expect((await ada.get('/api/exam/key')).status).toBe(200);
    const triples = (await (await ada.get('/api/exam/resume-challenges')).json()) as {
      triples: { challenge: string }[];
    };
    const [first, second] = triples.triples;
    expect(first && second).toBeTruthy();
    const redeem = async (challenge: string, resumeCode: string) => {
      const res = await appliance.app.request('/api/exam/resume', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ challenge, resumeCode }),
      });
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
    };
    // Well-formed guesses (the code alphabet and length), so each one is checked and counted.
    const guess = (i: number) => CODE_ALPHABET[i]!.repeat(RESUME_CODE_LENGTH);
    for (let i = 1; i < RESUME_WRONG_TRIES; i++)
      expect(await redeem(first!.challenge, guess(i))).toEqual({ status: 403, code: 'resume-code-wrong' });
    expect(await redeem(first!.challenge, guess(RESUME_WRONG_TRIES))).toEqual({
      status: 409,
      code: 'resume-challenge-locked',
    });
    // Locked for good: a further guess is not even checked.
    expect(await redeem(first!.challenge, guess(9))).toEqual({ status: 409, code: 'resume-challenge-locked' });

    // The proctor gets no code for a locked challenge, and the device cannot use one.
    const chief = new ProctorClient(appliance.app);
    expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
    const issue = (challenge: string) =>
      chief.request('POST', '/api/proctor/exams/exam-1/participants/S1/resume-code', { challenge });
    expect((await issue(first!.challenge)).status).toBe(409);
    // The next challenge still works with the proctor's code, once.
    const issued = (await (await issue(second!.challenge)).json()) as { resumeCode: string };
    expect((await redeem(second!.challenge, issued.resumeCode)).status).toBe(200);
    expect((await redeem(second!.challenge, issued.resumeCode)).status).toBe(409);
  });
});

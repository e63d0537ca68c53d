/**
 * Brute-force limits (appliance/src/sign-in-guard.ts): a guesser is slowed and then refused, the
 * owner is not locked out. Per (student id or username, address): 10 wrong access codes / 5 wrong
 * passwords, then 429 `too-many-attempts` there with Retry-After; per address, whatever the ids:
 * 300 / 100 wrong, then 429 `too-many-failures-from-address`; per id or username only a delay
 * (from the 4th wrong attempt, capped at 3 s), never a refusal; the owner's own device (the
 * examinee's bound device id, the proctor's `__Host-proctor-device` cookie) meets none of these.
 * Wrong resume codes lock a challenge at the fifth. The network address is what Node reports for
 * the socket (`c.env.incoming.socket.remoteAddress`), given here per request; the delays are
 * recorded rather than slept. The same over real HTTP: owner-gets-in.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { CODE_ALPHABET } from '../../domain/codes.js';
import { RESUME_CODE_LENGTH, RESUME_WRONG_TRIES } from '../../domain/resume-codes.js';
import { CONFIG_SCHEMA } from '../../appliance/src/config.js';
import { PROCTOR_DEVICE_COOKIE } from '../../appliance/src/proctors/devices.js';
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
/** openTestAppliance's PROCTOR_SIGN_IN_ATTEMPTS; the other limits are the config defaults. */
const PER_STUDENT_ADDRESS = 10;
const PER_ADDRESS = Number(CONFIG_SCHEMA.signInAddressFailures.default);
const PER_USER_ADDRESS = Number(CONFIG_SCHEMA.loginAttempts.default);
const LOGIN_PER_ADDRESS = Number(CONFIG_SCHEMA.loginAddressFailures.default);
const DELAY_CAP_MS = Number(CONFIG_SCHEMA.signInDelayCapMs.default);

let appliance: TestAppliance;
let clock: FakeClock;
/** The delays sign-ins waited (recorded, not slept). */
let delays: number[];

beforeEach(async () => {
  clock = new FakeClock(START - 20 * MIN);
  delays = [];
  appliance = await openTestAppliance(clock, {
    exam: testExam(START),
    signInSleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
  await addTestProctors(appliance);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

/** A request as if from `address` (what Node's socket would report). */
const from = (address: string, path: string, init: RequestInit) =>
  appliance.app.request(path, init, { incoming: { socket: { remoteAddress: address } } });

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter?: number;
}
const answer = async (res: Response): Promise<Answer> => {
  const code = ((await res.json()) as { error?: { code: string } }).error?.code;
  const retryAfter = res.headers.get('retry-after');
  return { status: res.status, code, ...(retryAfter === null ? {} : { retryAfter: Number(retryAfter) }) };
};

const signIn = async (
  address: string,
  studentId: string,
  accessCode: string,
  device = `device-${address}-0123456789`,
) =>
  answer(
    await from(address, '/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client-version': CLIENT_VERSION },
      body: JSON.stringify({ studentId, accessCode, deviceId: device.replace(/[^A-Za-z0-9_-]/g, '-') }),
    }),
  );

/** A proctor login; `deviceCookie` is the `__Host-proctor-device=...` pair a device keeps. */
const loginRaw = (address: string, username: string, password: string, deviceCookie?: string) =>
  from(address, '/api/proctor/login', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: ORIGIN,
      ...(deviceCookie === undefined ? {} : { cookie: deviceCookie }),
    },
    body: JSON.stringify({ username, password }),
  });
const login = async (address: string, username: string, password: string, deviceCookie?: string) =>
  answer(await loginRaw(address, username, password, deviceCookie));

/** Signs `username` in once from `address` and returns the device cookie that device keeps. */
async function deviceCookieOf(address: string, username: string, password: string): Promise<string> {
  const res = await loginRaw(address, username, password);
  expect(res.status).toBe(200);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${PROCTOR_DEVICE_COOKIE}=`));
  expect(cookie).toBeDefined();
  return cookie!;
}

describe('examinee sign-in', () => {
  it(`refuses a student id at the guessing address after ${PER_STUDENT_ADDRESS} wrong codes; elsewhere it is only slowed`, async () => {
    for (let i = 0; i < PER_STUDENT_ADDRESS; i++)
      expect(await signIn('10.0.0.66', 'S1', `WRONG${i}CODE`)).toEqual({ status: 401, code: 'invalid-credentials' });
    // The guesser is refused, the right code too (a new device at that address cannot be told apart) ...
    expect(await signIn('10.0.0.66', 'S1', `WRONGXCODE`)).toEqual({
      status: 429,
      code: 'too-many-attempts',
      retryAfter: 90,
    });
    expect((await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB')).code).toBe('too-many-attempts');
    // ... and 1,000 more guesses change nothing: none is checked, none counted.
    for (let i = 0; i < 1_000; i++) expect((await signIn('10.0.0.66', 'S1', `MORE${i}`)).status).toBe(429);
    // Another student at that address is not affected.
    expect((await signIn('10.0.0.66', 'S2', 'CCCC2222DDDD')).status).toBe(200);
    // The examinee from another address gets in after the id's delay, capped.
    delays = [];
    expect((await signIn('10.0.1.1', 'S1', 'AAAA1111BBBB')).status).toBe(200);
    expect(delays).toEqual([DELAY_CAP_MS]);
    // The bucket drains: one more try every 90 s at the guessing address, all free after 15 min.
    clock.advance(90_000);
    expect((await signIn('10.0.0.66', 'S1', 'WRONGYCODE')).status).toBe(401);
    expect((await signIn('10.0.0.66', 'S1', 'WRONGZCODE')).status).toBe(429);
  });

  it("lets the examinee's own device in at once from the guessing address", async () => {
    const laptop = 'laptop-of-ada-0123456789';
    expect((await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB', laptop)).status).toBe(200);
    for (let i = 0; i < 200; i++) await signIn('10.0.0.66', 'S1', `WRONG${i}CODE`, `guesser-${i}-0123456789`);
    expect((await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB')).code).toBe('too-many-attempts');
    delays = [];
    expect((await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB', laptop)).status).toBe(200);
    expect(delays).toEqual([]);
    // Its own budget is the same 10: a device id alone is no way round the limit.
    for (let i = 0; i < PER_STUDENT_ADDRESS; i++)
      expect((await signIn('10.0.0.66', 'S1', `TYPO${i}CODE`, laptop)).status).toBe(401);
    expect((await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB', laptop)).code).toBe('too-many-attempts');
  });

  it(`refuses an address after ${PER_ADDRESS} wrong codes across student ids: failures, not sign-ins`, async () => {
    // A hall behind one NAT address: right codes cost nothing.
    expect((await signIn('10.0.0.66', 'S2', 'CCCC2222DDDD')).status).toBe(200);
    // One device guessing across the roster (and beyond it): each id gets few tries.
    for (let i = 0; i < PER_ADDRESS; i++)
      expect(await signIn('10.0.0.66', `X${i}`, 'GUESSGUESS12')).toEqual({ status: 401, code: 'invalid-credentials' });
    expect(await signIn('10.0.0.66', 'X999', 'GUESSGUESS12')).toEqual({
      status: 429,
      code: 'too-many-failures-from-address',
      retryAfter: 3,
    });
    expect((await signIn('10.0.0.66', 'S1', 'AAAA1111BBBB')).code).toBe('too-many-failures-from-address');
    // The examinee already signed in there (their bound device) is not held to it.
    expect((await signIn('10.0.0.66', 'S2', 'CCCC2222DDDD')).status).toBe(200);
    // The examinees at other addresses sign in as usual.
    expect((await signIn('10.0.0.67', 'S1', 'AAAA1111BBBB')).status).toBe(200);
    clock.advance(15 * MIN + 1);
    expect((await signIn('10.0.0.66', 'S3', 'EEEE3333FFFF')).status).toBe(200);
  });
});

describe('proctor login', () => {
  it(`refuses (username, address) after ${PER_USER_ADDRESS} wrong passwords; the chief still gets in`, async () => {
    const tablet = await deviceCookieOf('10.0.3.1', 'chief', 'chief-password-1');
    for (let i = 0; i < PER_USER_ADDRESS; i++)
      expect(await login('10.0.0.66', 'chief', `wrong-${i}`)).toEqual({ status: 401, code: 'proctor-login-failed' });
    for (let i = 0; i < 1_000; i++)
      expect(await login('10.0.0.66', 'chief', `wrong-${i}`)).toEqual({
        status: 429,
        code: 'too-many-attempts',
        retryAfter: 180,
      });
    expect((await login('10.0.0.66', 'chief', 'chief-password-1')).status).toBe(429);
    // Another proctor at that address is not affected.
    expect((await login('10.0.0.66', 'invi', 'invi-password-1')).status).toBe(200);
    // The chief: from their tablet at once, from that address too; from a borrowed device after the delay.
    delays = [];
    expect((await login('10.0.0.66', 'chief', 'chief-password-1', tablet)).status).toBe(200);
    expect((await login('10.0.3.1', 'chief', 'chief-password-1', tablet)).status).toBe(200);
    expect(delays).toEqual([]);
    expect((await login('10.0.4.1', 'chief', 'chief-password-1')).status).toBe(200);
    expect(delays).toEqual([1_000]);
    clock.advance(15 * MIN + 1);
    expect((await login('10.0.0.66', 'chief', 'chief-password-1')).status).toBe(200);
  });

  it('slows a username guessed from many addresses, capped, and never refuses its owner', async () => {
    for (let a = 1; a <= 4; a++)
      for (let i = 0; i < PER_USER_ADDRESS; i++) await login(`10.0.${a}.9`, 'chief', `wrong-${a}-${i}`);
    expect(Math.max(...delays)).toBe(DELAY_CAP_MS);
    delays = [];
    expect((await login('10.0.200.1', 'chief', 'chief-password-1')).status).toBe(200);
    expect(delays).toEqual([DELAY_CAP_MS]);
  });

  it(`refuses an address after ${LOGIN_PER_ADDRESS} wrong passwords across usernames`, async () => {
    const invisTablet = await deviceCookieOf('10.0.4.4', 'invi', 'invi-password-1');
    for (let i = 0; i < LOGIN_PER_ADDRESS; i++)
      expect((await login('10.0.4.4', `user${i}`, 'wrong-password')).status).toBe(401);
    expect(await login('10.0.4.4', 'invi', 'invi-password-1')).toEqual({
      status: 429,
      code: 'too-many-failures-from-address',
      retryAfter: 9,
    });
    expect((await login('10.0.4.5', 'invi', 'invi-password-1')).status).toBe(200);
    expect((await login('10.0.4.4', 'invi', 'invi-password-1', invisTablet)).status).toBe(200);
  });

  it("takes no forged device cookie, nor another proctor's, as the chief's device", async () => {
    const invisTablet = await deviceCookieOf('10.0.5.1', 'invi', 'invi-password-1');
    const [name, value] = invisTablet.split('=') as [string, string];
    const forged = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
    for (let i = 0; i < PER_USER_ADDRESS; i++) await login('10.0.0.66', 'chief', `wrong-${i}`);
    for (const cookie of [invisTablet, forged, `${name}=x.y`])
      expect((await login('10.0.0.66', 'chief', 'chief-password-1', cookie)).code).toBe('too-many-attempts');
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

/**
 * Nobody can lock the owner out (issue 17, item 1), over real HTTP against the real appliance
 * process. The chief signs in once from their tablet and an examinee once from their laptop; the
 * appliance restarts (proctor sessions are in memory: the attack this answers came after a
 * restart); then one address (127.0.0.1) sends 1,000 wrong chief passwords and 1,000 wrong access
 * codes for each of two examinees, 16 at a time. Afterwards:
 *
 * - the chief gets in from another address (127.0.0.2) and from the guessing address itself at
 *   once on their tablet (its `__Host-proctor-device` cookie), and from a borrowed device at
 *   another address within the capped delay;
 * - the examinee gets in from their own laptop (the bound device id) at once, from either
 *   address; an examinee who never signed in gets in from another address within the capped delay;
 * - the guesser is still refused: 429 with Retry-After, the right secret too, from a new device at
 *   the guessing address. Only the first 5 passwords and 10 codes per id were ever checked.
 *
 * Loopback addresses stand in for devices: Linux routes all of 127/8 to lo, and an http.Agent's
 * `localAddress` picks the source address the appliance sees.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayFor } from '../../appliance/src/sign-in-guard.js';
import { CLIENT_VERSION } from '../support/appliance.js';
import { ApplianceProcess } from '../support/appliance-process.js';
import { PROCTORS, send, startHall, type RawAnswer, type RunningHall } from './support.js';

const FLOOD = 1_000;
const PARALLEL = 16;
/** PROCTOR_SIGN_IN_DELAY_CAP_MS's default. */
const DELAY_CAP_MS = 3_000;
/** "At once": a sign-in with no delay, argon2 included, on a loaded 2-core test machine. */
const AT_ONCE_MS = 1_000;
const CHIEF = PROCTORS[0];

describe('the owner gets in after a flood of wrong secrets (real appliance process)', () => {
  let hall: RunningHall;
  const agents = {
    guesser: new http.Agent({ keepAlive: true, maxSockets: PARALLEL, localAddress: '127.0.0.1' }),
    elsewhere: new http.Agent({ keepAlive: true, maxSockets: 4, localAddress: '127.0.0.2' }),
    tablet: new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.3' }),
  };
  const figures: Record<string, number | string> = {};

  const post = async (
    agent: http.Agent,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<RawAnswer & { code: string | undefined; ms: number }> => {
    const t0 = performance.now();
    const answer = await send(
      agent,
      hall.proc.port,
      'POST',
      path,
      {
        'content-type': 'application/json',
        origin: hall.proc.baseUrl,
        'x-client-version': CLIENT_VERSION,
        ...headers,
      },
      JSON.stringify(body),
    );
    if ('error' in answer) throw new Error(`${path}: ${answer.error}`);
    const code = answer.body.startsWith('{')
      ? (JSON.parse(answer.body) as { error?: { code: string } }).error?.code
      : undefined;
    return { ...answer, code, ms: Math.round(performance.now() - t0) };
  };
  const login = (agent: http.Agent, password: string, deviceCookie?: string) =>
    post(
      agent,
      '/api/proctor/login',
      { username: CHIEF.username, password },
      deviceCookie ? { cookie: deviceCookie } : {},
    );
  const signIn = (agent: http.Agent, studentId: string, accessCode: string, deviceId: string) =>
    post(agent, '/api/session', { studentId, accessCode, deviceId });

  /** Sends `FLOOD` requests, `PARALLEL` at a time; counts the answers by status and code. */
  async function flood(request: (i: number) => Promise<{ status: number; code: string | undefined }>) {
    const counts: Record<string, number> = {};
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let i = next++; i < FLOOD; i = next++) {
          const r = await request(i);
          const key = `${r.status} ${r.code}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
      }),
    );
    return { counts, ms: Math.round(performance.now() - t0) };
  }

  let tabletCookie: string;
  const roster = () => hall.files.roster;
  const laptop = 'laptop-of-the-examinee-0123456789';

  beforeAll(async () => {
    hall = await startHall('proctor-owner-', { examinees: 4 });
    // The morning: the chief signs in on their tablet, an examinee on their laptop.
    const first = await login(agents.tablet, CHIEF.password);
    expect(first.status).toBe(200);
    const cookies = [first.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]!);
    tabletCookie = cookies.find((c) => c.startsWith('__Host-proctor-device='))!;
    expect(tabletCookie).toBeDefined();
    const ada = roster()[0]!;
    expect((await signIn(agents.tablet, ada.studentId, ada.accessCode, laptop)).status).toBe(200);
    // A restart ends every proctor session; the device cookie's key is on disk.
    await hall.proc.stop();
    hall.proc = await ApplianceProcess.start({ dataDir: hall.dataDir });
  });
  afterAll(async () => {
    for (const a of Object.values(agents)) a.destroy();
    console.log(`owner-gets-in figures: ${JSON.stringify(figures)}`);
    await hall?.close();
  });

  it(`lets the chief in after ${FLOOD} wrong passwords from one address`, async () => {
    const guesses = await flood((i) => login(agents.guesser, `wrong-password-${i}`));
    figures.chiefFloodMs = guesses.ms;
    figures.chiefFlood = JSON.stringify(guesses.counts);
    // Only the (username, address) budget was checked; the rest refused unchecked.
    expect(guesses.counts).toEqual({ '401 proctor-login-failed': 5, '429 too-many-attempts': FLOOD - 5 });

    const fromElsewhere = await login(agents.elsewhere, CHIEF.password, tabletCookie);
    const fromThere = await login(agents.guesser, CHIEF.password, tabletCookie);
    const borrowed = await login(agents.elsewhere, CHIEF.password);
    figures.chiefTabletElsewhereMs = fromElsewhere.ms;
    figures.chiefTabletSameAddressMs = fromThere.ms;
    figures.chiefBorrowedDeviceElsewhereMs = borrowed.ms;
    expect([fromElsewhere.status, fromThere.status, borrowed.status]).toEqual([200, 200, 200]);
    expect(fromElsewhere.ms).toBeLessThan(AT_ONCE_MS);
    expect(fromThere.ms).toBeLessThan(AT_ONCE_MS);
    // A borrowed device waits the chief's delay: 5 wrong passwords counted, 1 s.
    expect(borrowed.ms).toBeGreaterThanOrEqual(delayFor(5, DELAY_CAP_MS) - 50);
    expect(borrowed.ms).toBeLessThan(DELAY_CAP_MS + AT_ONCE_MS);

    // The guesser is still refused, the right password too, with a time to come back.
    const refused = await login(agents.guesser, CHIEF.password);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 429, code: 'too-many-attempts' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    figures.guesserRetryAfterS = Number(refused.headers['retry-after']);
  });

  it(`lets the examinee in after ${FLOOD} wrong access codes for their id from one address`, async () => {
    const [ada, ben] = [roster()[0]!, roster()[1]!];
    const device = (i: number) => `guesser-device-${i}-0123456789`;
    for (const who of [ada, ben]) {
      const guesses = await flood((i) => signIn(agents.guesser, who.studentId, `WRONG${i}CODE`, device(i)));
      figures[`codeFloodMs_${who === ada ? 'signedInBefore' : 'neverSignedIn'}`] = guesses.ms;
      expect(guesses.counts).toEqual({ '401 invalid-credentials': 10, '429 too-many-attempts': FLOOD - 10 });
    }

    // Ada signed in on her laptop this morning: at once, from anywhere.
    const elsewhere = await signIn(agents.elsewhere, ada.studentId, ada.accessCode, laptop);
    const there = await signIn(agents.guesser, ada.studentId, ada.accessCode, laptop);
    figures.examineeOwnDeviceElsewhereMs = elsewhere.ms;
    figures.examineeOwnDeviceSameAddressMs = there.ms;
    expect([elsewhere.status, there.status]).toEqual([200, 200]);
    expect(elsewhere.ms).toBeLessThan(AT_ONCE_MS);
    expect(there.ms).toBeLessThan(AT_ONCE_MS);

    // Ben arrives for the first time: from another address after the capped delay ...
    const first = await signIn(agents.elsewhere, ben.studentId, ben.accessCode, 'bens-laptop-0123456789');
    figures.examineeFirstSignInElsewhereMs = first.ms;
    expect(first.status).toBe(200);
    expect(first.ms).toBeGreaterThanOrEqual(DELAY_CAP_MS - 50);
    expect(first.ms).toBeLessThan(DELAY_CAP_MS + AT_ONCE_MS);
    // ... while a new device at the guessing address is refused, the right code too.
    const refused = await signIn(agents.guesser, ben.studentId, ben.accessCode, device(FLOOD));
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 429, code: 'too-many-attempts' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    // Everyone else at the guessing address (a hall behind one NAT) signs in as usual.
    const cara = roster()[2]!;
    expect((await signIn(agents.guesser, cara.studentId, cara.accessCode, 'caras-laptop-0123456789')).status).toBe(200);
    const health = await fetch(`${hall.proc.baseUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(hall.proc.running).toBe(true);
  });
});

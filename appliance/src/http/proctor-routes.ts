/**
 * The proctor API (all under /api/proctor): sign-in with a `__Host-` session cookie, then the
 * monitor's tabs. Every state-changing request must come from this appliance's own origin
 * (Origin header), every route needs a proctor session (proctor-session.ts), and chief-only
 * actions check the role (the rule: domain/proctor-roles.ts).
 *
 *   POST   /login  /logout      GET /me      GET|PUT /preferences/columns
 *   POST   /clock                                    confirm the appliance's time or set it from the device (chief)
 *   /exams/...                                        exams and their reports: proctor-exam-routes.ts
 *   /exams/:examId/participants/...                   rows and per-examinee actions: proctor-participant-routes.ts
 */
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { PARTICIPANT_COLUMNS } from '../../../domain/monitor.js';
import { SESSION_MAX_MS } from '../proctors/sessions.js';
import { DEVICE_COOKIE_MAX_DAYS, PROCTOR_DEVICE_COOKIE } from '../proctors/devices.js';
import { clientAddress } from './client-address.js';
import { examRoutes } from './proctor-exam-routes.js';
import { participantRoutes } from './proctor-participant-routes.js';
import {
  PROCTOR_COOKIE,
  refuseUnlessAllowed,
  requireProctorSession,
  sameOriginOnly,
  type ProctorDeps,
  type ProctorEnv,
} from './proctor-session.js';
import { sendRefusal, sendResult } from './responses.js';
import { readJson } from './validate.js';

export { PROCTOR_COOKIE, type ProctorDeps };

/** Times a proctor's device can plausibly send (a device clock at 1970 is not a time to set). */
const PLAUSIBLE_TIME = z
  .number()
  .int()
  .min(Date.UTC(2026, 0, 1))
  .max(Date.UTC(2100, 0, 1));
const CLOCK_BODY = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('confirm') }),
  z.strictObject({ action: z.literal('set'), now: PLAUSIBLE_TIME }),
]);
const LOGIN_BODY = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });

export function proctorRoutes(deps: ProctorDeps): Hono<ProctorEnv> {
  const app = new Hono<ProctorEnv>();
  app.use('*', sameOriginOnly);
  signInRoutes(app, deps);
  // Everything below needs a proctor session.
  app.use('*', requireProctorSession(deps));
  accountRoutes(app, deps);
  clockRoutes(app, deps);
  examRoutes(app, deps);
  participantRoutes(app, deps);
  return app;
}

/**
 * POST /login: a session cookie for a proctor's username and password, and the device cookie that
 * makes this device known (limits: sign-in-guard.ts; refusals carry Retry-After).
 */
function signInRoutes(app: Hono<ProctorEnv>, deps: ProctorDeps): void {
  app.post('/login', async (c) => {
    const body = await readJson(c, LOGIN_BODY, 4 * 1024);
    if (!body.ok) return body.response;
    const { username, password } = body.value;
    const deviceCookie = getCookie(c, PROCTOR_DEVICE_COOKIE);
    const checked = await deps.loginGuard.attempt(
      {
        account: username,
        address: clientAddress(c),
        knownDevice: deps.proctorDevices.deviceOf(deviceCookie, username),
      },
      () => deps.accounts.authenticate(username, password),
      (proctor) => proctor !== undefined,
    );
    if (!checked.ok) return sendResult(c, checked);
    const proctor = checked.value;
    if (!proctor) return sendRefusal(c, 'proctor-login-failed');
    const token = deps.sessions.create(proctor);
    const cookie = { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' } as const;
    setCookie(c, PROCTOR_COOKIE, token, { ...cookie, maxAge: SESSION_MAX_MS / 1000 });
    // The device keeps its id when another proctor signs in on it (a shared tablet).
    const device = deps.proctorDevices.read(deviceCookie)?.d;
    setCookie(c, PROCTOR_DEVICE_COOKIE, deps.proctorDevices.issue(proctor.username, device), {
      ...cookie,
      maxAge: DEVICE_COOKIE_MAX_DAYS * 24 * 60 * 60,
    });
    return c.json({ proctor });
  });
}

/** POST /logout, GET /me, GET|PUT /preferences/columns. */
function accountRoutes(app: Hono<ProctorEnv>, deps: ProctorDeps): void {
  app.post('/logout', (c) => {
    const token = getCookie(c, PROCTOR_COOKIE);
    if (token !== undefined) deps.sessions.end(token);
    deleteCookie(c, PROCTOR_COOKIE, { path: '/', secure: true });
    return c.json({ ok: true });
  });

  app.get('/me', (c) => c.json({ proctor: c.get('proctor') }));

  app.get('/preferences/columns', async (c) =>
    c.json({ columns: await deps.preferences.get(c.get('proctor').username), available: PARTICIPANT_COLUMNS }),
  );
  app.put('/preferences/columns', async (c) => {
    const body = await readJson(
      c,
      z.strictObject({ columns: z.array(z.enum(PARTICIPANT_COLUMNS)).min(1).max(PARTICIPANT_COLUMNS.length) }),
    );
    if (!body.ok) return body.response;
    const columns = [...new Set(body.value.columns)];
    await deps.preferences.set(c.get('proctor').username, columns);
    return c.json({ columns });
  });
}

/**
 * POST /clock: the appliance's time on an untrusted clock (no NTP): a chief proctor confirms it,
 * or sets it from their device's time (time/clock-service.ts).
 */
function clockRoutes(app: Hono<ProctorEnv>, deps: ProctorDeps): void {
  app.post('/clock', async (c) => {
    const denied = refuseUnlessAllowed(c, 'clock');
    if (denied) return denied;
    const body = await readJson(c, CLOCK_BODY, 1024);
    if (!body.ok) return body.response;
    const result = await deps.clockService.vouch(body.value, c.get('proctor').username);
    if (!result.ok) return sendResult(c, result);
    const { now, iso, trusted, source } = result;
    return c.json({ now, iso, trusted, source });
  });
}

/**
 * The proctor session at the HTTP edge: the `__Host-proctor` cookie, the middleware every proctor
 * route (and GET /api/sync/status) sits behind, the same-origin rule for state-changing requests,
 * and the role check (the rule itself is domain/proctor-roles.ts).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ExamineeDoc } from '../../../domain/exam-format.js';
import { mayPerform, type ProctorAction } from '../../../domain/proctor-roles.js';
import type { Clock } from '../../../domain/clock.js';
import type { Monitor } from '../monitor.js';
import type { ProctorActions } from '../proctor-actions.js';
import type { Proctor, ProctorAccounts } from '../proctors/accounts.js';
import type { ColumnPreferences } from '../proctors/preferences.js';
import type { ProctorDevices } from '../proctors/devices.js';
import type { ProctorSessions } from '../proctors/sessions.js';
import type { SignInGuard } from '../sign-in-guard.js';
import type { ResumeCodes } from '../resume-codes.js';
import type { HallStore } from '../store/hall-store.js';
import type { ExamEntry, ExamineeEntry } from '../store/projection.js';
import type { ClockService } from '../time/clock-service.js';
import { sendRefusal } from './responses.js';
import type { StreamCaps } from './stream-caps.js';

export const PROCTOR_COOKIE = '__Host-proctor';

/** What the proctor API's routes (proctor-routes.ts and the topic files it mounts) are built from. */
export interface ProctorDeps {
  store: HallStore;
  clock: Clock;
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  monitor: Monitor;
  actions: ProctorActions;
  preferences: ColumnPreferences;
  resumeCodes: ResumeCodes;
  clockService: ClockService;
  loginGuard: SignInGuard;
  proctorDevices: ProctorDevices;
  /** The event streams open and their caps (the monitor stream is one). */
  streams: StreamCaps;
}

/** What a proctor route has: the signed-in proctor (and, under /exams/:examId, the exam and examinee). */
export type ProctorEnv = {
  Variables: { proctor: Proctor; exam: ExamEntry; entry: ExamineeEntry & { doc: ExamineeDoc } };
};
/** What a route that needs only the proctor has. */
export type ProctorSessionEnv = { Variables: { proctor: Proctor } };

/**
 * Refuses a request without a live proctor session (401 unauthenticated) and sets `proctor`.
 * A removed account or a changed role ends the session at once.
 */
export function requireProctorSession(deps: {
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
}): MiddlewareHandler<ProctorSessionEnv> {
  return async (c, next) => {
    const token = getCookie(c, PROCTOR_COOKIE);
    const proctor = token === undefined ? undefined : deps.sessions.touch(token);
    if (proctor === 'expired')
      return sendRefusal(c, 'session-expired', 'the proctor session was idle too long or is older than its lifetime');
    if (!proctor) return sendRefusal(c, 'unauthenticated', 'sign in as a proctor');
    const current = await deps.accounts.find(proctor.username);
    if (!current || current.role !== proctor.role) {
      if (token !== undefined) deps.sessions.end(token);
      return sendRefusal(c, 'unauthenticated', 'your account changed: sign in again');
    }
    c.set('proctor', current);
    await next();
  };
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Cross-site requests cannot change anything: the Origin must be this appliance's own. */
export const sameOriginOnly: MiddlewareHandler = async (c, next) => {
  if (STATE_CHANGING.has(c.req.method)) {
    const origin = c.req.header('origin');
    if (origin === undefined || origin !== new URL(c.req.url).origin) {
      return sendRefusal(c, 'origin-mismatch', origin === undefined ? 'no Origin header' : `Origin ${origin}`);
    }
  }
  await next();
};

/** A 403 forbidden-role refusal when the signed-in proctor may not take `action`, else undefined. */
export function refuseUnlessAllowed<E extends ProctorSessionEnv>(
  c: Context<E>,
  action: ProctorAction,
): Response | undefined {
  const proctor: Proctor = c.var.proctor;
  return mayPerform(proctor.role, action) ? undefined : sendRefusal(c, 'forbidden-role', action);
}

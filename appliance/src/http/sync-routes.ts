/**
 * GET /api/sync/status: the state of replication with the institution's central database, for the
 * dashboard's Sync status tab. Proctors only (the same `__Host-proctor` session as the proctor API).
 * Sync itself is built later (sync/); until then this appliance answers that it is not set up.
 *
 *   { configured: boolean, state: 'off' | 'idle' | 'syncing' | 'offline' | 'error',
 *     lastSuccessAt: ISO string | null, pending: { docs, bytes } | null,
 *     progress?: { done, total }, lastError: string | null }
 */
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ProctorAccounts } from '../proctors/accounts.js';
import type { ProctorSessions } from '../proctors/sessions.js';
import { PROCTOR_COOKIE } from './proctor-routes.js';
import { sendRefusal } from './responses.js';

export const SYNC_STATES = ['off', 'idle', 'syncing', 'offline', 'error'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

export interface SyncStatus {
  configured: boolean;
  state: SyncState;
  lastSuccessAt: string | null;
  pending: { docs: number; bytes: number } | null;
  progress?: { done: number; total: number };
  lastError: string | null;
}

/** What the appliance answers while sync with the central server is not set up. */
export const SYNC_NOT_CONFIGURED: SyncStatus = {
  configured: false,
  state: 'off',
  lastSuccessAt: null,
  pending: null,
  lastError: null,
};

export interface SyncRouteDeps {
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  /** The current sync status; the sync service provides it once it exists. */
  status?: () => SyncStatus;
}

export function syncRoutes(deps: SyncRouteDeps): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    const token = getCookie(c, PROCTOR_COOKIE);
    const proctor = token === undefined ? undefined : deps.sessions.touch(token);
    const current = proctor ? await deps.accounts.find(proctor.username) : undefined;
    if (!proctor || !current || current.role !== proctor.role) {
      return sendRefusal(c, 'unauthenticated', 'sign in as a proctor');
    }
    await next();
  });
  app.get('/status', (c) => {
    c.header('cache-control', 'no-store');
    return c.json(deps.status?.() ?? SYNC_NOT_CONFIGURED);
  });
  return app;
}

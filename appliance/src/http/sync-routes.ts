/**
 * GET /api/sync/status: the state of replication with the institution's central database, for the
 * dashboard's Sync status tab. Proctors only (the same `__Host-proctor` session as the proctor API).
 * The status comes from the sync (sync/sync-status.ts); with no central server configured it is
 * `{ configured: false, state: 'off', ... }`.
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
import type { SyncStatusSource } from '../../../sync/sync-status.js';

export interface SyncRouteDeps {
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  /** The sync with the central server (sync/hall-sync.ts), or the not-configured one. */
  sync: SyncStatusSource;
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
    return c.json(deps.sync.status());
  });
  return app;
}

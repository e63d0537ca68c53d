/**
 * GET /api/sync/status: the state of replication with the institution's central database, for the
 * dashboard's Sync status tab. Proctors only: behind the same proctor-session middleware as the
 * proctor API (proctor-session.ts). The status comes from the sync (sync/sync-status.ts); with no
 * central server configured it is `{ configured: false, state: 'off', ... }`.
 *
 *   { configured: boolean, state: 'off' | 'idle' | 'syncing' | 'offline' | 'error',
 *     lastSuccessAt: ISO string | null, lastContactAt: ISO string | null,
 *     pending: { docs, bytes } | null, progress?: { done, total }, lastError: string | null }
 *
 * POST /api/sync/now: try the central server now, not at the next retry (the "Sync now" button;
 * any proctor; same-origin like every proctor write); answers 202 with the status. Without a
 * central server configured: 409 sync-not-configured.
 */
import { Hono } from 'hono';
import type { ProctorAccounts } from '../proctors/accounts.js';
import type { ProctorSessions } from '../proctors/sessions.js';
import { requireProctorSession, sameOriginOnly, type ProctorSessionEnv } from './proctor-session.js';
import { sendRefusal } from './responses.js';
import type { SyncStatusSource } from '../../../sync/sync-status.js';

export interface SyncRouteDeps {
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  /** The sync with the central server (sync/hall-sync.ts), or the not-configured one. */
  sync: SyncStatusSource;
}

export function syncRoutes(deps: SyncRouteDeps): Hono<ProctorSessionEnv> {
  const app = new Hono<ProctorSessionEnv>();
  app.use('*', sameOriginOnly);
  app.use('*', requireProctorSession(deps));
  app.get('/status', (c) => {
    c.header('cache-control', 'no-store');
    return c.json(deps.sync.status());
  });
  app.post('/now', (c) => {
    const { sync } = deps;
    if (!sync.status().configured || sync.syncNow === undefined) return sendRefusal(c, 'sync-not-configured');
    c.header('cache-control', 'no-store');
    return c.json(sync.syncNow(), 202);
  });
  return app;
}

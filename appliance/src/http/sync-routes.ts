/**
 * GET /api/sync/status: the state of replication with the institution's central database, for the
 * dashboard's Sync status tab. Proctors only: behind the same proctor-session middleware as the
 * proctor API (proctor-session.ts). The status comes from the sync (sync/sync-status.ts); with no
 * central server configured it is `{ configured: false, state: 'off', ... }`.
 *
 *   { configured: boolean, state: 'off' | 'idle' | 'syncing' | 'offline' | 'error',
 *     lastSuccessAt: ISO string | null, pending: { docs, bytes } | null,
 *     progress?: { done, total }, lastError: string | null }
 */
import { Hono } from 'hono';
import type { ProctorAccounts } from '../proctors/accounts.js';
import type { ProctorSessions } from '../proctors/sessions.js';
import { requireProctorSession, type ProctorSessionEnv } from './proctor-session.js';
import type { SyncStatusSource } from '../../../sync/sync-status.js';

export interface SyncRouteDeps {
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  /** The sync with the central server (sync/hall-sync.ts), or the not-configured one. */
  sync: SyncStatusSource;
}

export function syncRoutes(deps: SyncRouteDeps): Hono<ProctorSessionEnv> {
  const app = new Hono<ProctorSessionEnv>();
  app.use('*', requireProctorSession(deps));
  app.get('/status', (c) => {
    c.header('cache-control', 'no-store');
    return c.json(deps.sync.status());
  });
  return app;
}

/**
 * The sync's status as `GET /api/sync/status` sends it and the dashboard's Sync status tab reads
 * it (a wire type: declared here once, sync/ fills it in).
 */

/** off: no central server configured; idle: everything exchanged, waiting for changes; syncing:
 * exchanging; offline: the central server cannot be reached, retrying with backoff; error: it
 * answers but refuses (credentials, permissions, missing database, a document it refused),
 * retrying with backoff. */
export type SyncState = 'off' | 'idle' | 'syncing' | 'offline' | 'error';

/**
 * A document of this appliance that the central server refused (its validate_doc_update said
 * no). The replicator moves past it, so it would never be sent again: the sync keeps it here, in
 * the status, the health answer and the heartbeat, and offers it again at every reconnection and
 * "Sync now" until the server takes it.
 */
export interface RefusedDoc {
  id: string;
  /** The server's words. */
  reason: string;
  /** When it was first refused (ISO time). */
  at: string;
}

/** The sync's status, as the dashboard shows it. */
export interface SyncStatus {
  configured: boolean;
  state: SyncState;
  /** When everything was last exchanged with the central server (ISO time), if ever. */
  lastSuccessAt: string | null;
  /**
   * When the appliance last exchanged anything with the central server successfully (ISO time: a
   * sign-in and check, a batch, a caught-up replication), if ever: the link works, even while
   * something is still to send.
   */
  lastContactAt: string | null;
  /** Appliance documents (events, submissions, blob chunks) not yet pushed, and their bytes. */
  pending: { docs: number; bytes: number } | null;
  /** While pushing: documents pushed in this round, of the total to push. */
  progress?: { done: number; total: number };
  /** The last problem, in words a proctor can act on or pass on; null once a sync succeeds. */
  lastError: string | null;
  /** Documents the central server refused and has not taken since, oldest first (at most 50 listed). */
  refused: RefusedDoc[];
  /** How many documents are refused in all (refused lists at most 50 of them). */
  refusedCount: number;
}

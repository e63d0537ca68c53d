/**
 * The sync with the institution's central CouchDB: HallSync (live replication, blob chunks,
 * status), the link to the central server and the status shape the dashboard shows. It knows
 * nothing of the appliance: the appliance wires it to its store (appliance/src/hall-sync-wiring.ts).
 */
export { centralLink, type CentralLink } from './central-link.js';

export { HallSync, type HallSyncOptions } from './hall-sync.js';
export {
  SYNC_NOT_CONFIGURED,
  notConfiguredSync,
  type SyncState,
  type SyncStatus,
  type SyncStatusSource,
} from './sync-status.js';

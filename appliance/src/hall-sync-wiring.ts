/**
 * The sync wired into the appliance: a HallSync over the appliance's store when a central server
 * is configured (PROCTOR_SYNC_URL), else a source that always says "not set up". sync/ knows
 * nothing of the appliance; this is where the two meet.
 */
import type { Clock } from '../../domain/clock.js';
import { centralLink, HallSync, notConfiguredSync, type SyncStatusSource } from '../../sync/index.js';
import { rawPublicKey } from './crypto/receipts.js';
import type { HallStore } from './store/hall-store.js';

export interface SyncSettings {
  /** PROCTOR_SYNC_URL; empty: no sync. */
  syncUrl: string;
  syncUser: string;
  syncPassword: string;
}

/**
 * The sync for an appliance: a HallSync when a central server is configured, else a source that
 * always says "not set up". Call start() after the store is open; stop() before closing it.
 */
export function createHallSync(
  store: HallStore,
  settings: SyncSettings,
  options: {
    clock: Clock;
    log?: (level: 'info' | 'warn' | 'error', line: string) => void;
    /** Called with the ids of exams the pull brought that the appliance did not have. */
    onNewExams?: (examIds: string[]) => void;
    /** For the heartbeat (appliance-status:<applianceId>): the version and the clock's trust. */
    identity?: { version: string; clockTrusted: () => boolean };
  },
): SyncStatusSource & { start(): Promise<void>; stop(): Promise<void> } {
  if (settings.syncUrl === '')
    return { ...notConfiguredSync, start: async () => undefined, stop: async () => undefined };
  const link = centralLink(
    settings.syncUrl,
    settings.syncUser === '' ? undefined : settings.syncUser,
    settings.syncPassword === '' ? undefined : settings.syncPassword,
  );
  return new HallSync({
    db: store.db,
    blobPath: (sha256) => store.blobs.pathOf(sha256),
    applianceId: store.applianceId,
    hallId: store.hallId,
    link,
    clock: options.clock,
    receiptPublicKey: rawPublicKey(store.receiptSigner.publicKey),
    ...(options.identity
      ? { identity: { ...options.identity, startedAt: new Date(options.clock.now()).toISOString() } }
      : {}),
    ...(options.log ? { log: options.log } : {}),
    onPulled: (docs) => {
      const newExams = store.applyPulled(docs);
      for (const examId of newExams) void store.loadRoster(examId);
      if (newExams.length > 0) options.onNewExams?.(newExams);
    },
  });
}

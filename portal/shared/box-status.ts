/**
 * A box's colour from its heartbeat (contract C3), for people who would rather look than read:
 *
 * - red: the box says it is offline or in error, its clock is not trusted, the central server
 *   refused documents that are still unresolved, or no heartbeat for `offlineSeconds`;
 * - amber: no heartbeat for `staleSeconds`, or documents pending and no full sync for
 *   `staleSeconds`, or never synced at all;
 * - green: a recent heartbeat and a recent full sync.
 *
 * Ages are measured on the portal's clock (`nowMs`) against the box's own timestamps, which is
 * why a box whose clock is not trusted is red whatever its times say.
 */
import type { BoxColour, BoxStatus, Heartbeat } from './api.js';

export interface BoxStatusThresholds {
  staleSeconds: number;
  offlineSeconds: number;
}

export const DEFAULT_THRESHOLDS: BoxStatusThresholds = { staleSeconds: 180, offlineSeconds: 600 };

const minutes = (ms: number) => `${Math.max(1, Math.round(ms / 60_000))} min`;

export function boxStatus(
  heartbeat: Heartbeat,
  nowMs: number,
  thresholds: BoxStatusThresholds = DEFAULT_THRESHOLDS,
): BoxStatus {
  const at = (heartbeat: Heartbeat, status: BoxColour, label: string): BoxStatus => ({
    heartbeat,
    colour: status,
    label,
  });
  const seen = Date.parse(heartbeat.at);
  const age = Number.isNaN(seen) ? Number.POSITIVE_INFINITY : nowMs - seen;
  const synced = heartbeat.lastSuccessAt === null ? Number.NaN : Date.parse(heartbeat.lastSuccessAt);
  const syncAge = Number.isNaN(synced) ? Number.POSITIVE_INFINITY : nowMs - synced;
  if (age > thresholds.offlineSeconds * 1000)
    return at(heartbeat, 'red', Number.isFinite(age) ? `No heartbeat for ${minutes(age)}` : 'No heartbeat');
  if (heartbeat.state === 'offline') return at(heartbeat, 'red', 'Offline: cannot reach the central server');
  if (heartbeat.state === 'error') return at(heartbeat, 'red', 'Sync error');
  if (!heartbeat.clockTrusted) return at(heartbeat, 'red', 'Clock not trusted');
  if (heartbeat.refused > 0) return at(heartbeat, 'red', `${heartbeat.refused} document(s) refused`);
  if (age > thresholds.staleSeconds * 1000) return at(heartbeat, 'amber', `Stale: no heartbeat for ${minutes(age)}`);
  if (!Number.isFinite(syncAge)) return at(heartbeat, 'amber', 'Never synced');
  const pending = heartbeat.pending?.docs ?? 0;
  if (pending > 0 && syncAge > thresholds.staleSeconds * 1000)
    return at(heartbeat, 'amber', `${pending} pending, last sync ${minutes(syncAge)} ago`);
  return at(heartbeat, 'green', pending > 0 ? `Syncing (${pending} pending)` : 'Synced');
}

/**
 * What proctors (and `GET /api/sync/status`) see of the sync, and the plain words for what went
 * wrong.
 */

import type { SyncStatus } from '../domain/sync-status.js';

export type { RefusedDoc, SyncState, SyncStatus } from '../domain/sync-status.js';

/** Anything that can tell the sync's status (the HTTP route asks this). */
export interface SyncStatusSource {
  status(): SyncStatus;
  /** Tries the central server now (the "Sync now" button), not at the next retry. */
  syncNow?(): SyncStatus;
}

/** The status of an appliance with no central server configured. */
export const SYNC_NOT_CONFIGURED: Readonly<SyncStatus> = Object.freeze({
  configured: false,
  state: 'off',
  lastSuccessAt: null,
  lastContactAt: null,
  pending: null,
  lastError: null,
  refused: [],
  refusedCount: 0,
});

/** The status source of an appliance with no central server configured. */
export const notConfiguredSync: SyncStatusSource = { status: () => ({ ...SYNC_NOT_CONFIGURED, refused: [] }) };

/** A failure, classified: offline (no link) or error (the server refuses), with its words. */
export interface SyncProblem {
  kind: 'offline' | 'error';
  message: string;
}

interface ErrorLike {
  status?: unknown;
  name?: unknown;
  message?: unknown;
  reason?: unknown;
  code?: unknown;
  cause?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The error code of an error or of one of its causes (fetch wraps the socket's error). */
function errorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const e = err as ErrorLike;
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  return errorCode(e.cause, depth + 1);
}

/**
 * Puts a replication or HTTP failure into plain words. `server` names the central server (host
 * and port only: never the credentials); `hallDb` is the database name; `whose` the credentials'
 * owner in the message.
 */
export function describeSyncError(err: unknown, server: string, hallDb: string, whose = "the hall's"): SyncProblem {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const reason = [e.reason, e.message].find((m): m is string => typeof m === 'string' && m !== '') ?? '';
  const code = errorCode(err);
  if (code === 'ECONNREFUSED')
    return { kind: 'offline', message: `The central server ${server} refuses connections (is it running?).` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return {
      kind: 'offline',
      message: `The central server's name in ${server} cannot be looked up (no network or DNS).`,
    };
  if (code !== undefined && NETWORK_CODES.has(code))
    return { kind: 'offline', message: `The link to the central server ${server} was lost (${code}); retrying.` };
  switch (status) {
    case 401:
      return { kind: 'error', message: `The central server refused ${whose} credentials (401).` };
    case 403:
      return {
        kind: 'error',
        message: `The central server does not let ${whose} user use ${hallDb} (403)${reason ? `: ${reason}` : ''}.`,
      };
    case 404:
      return {
        kind: 'error',
        message: `The central server has no database ${hallDb} (404): the institution sets it up with \`sync add-hall\`.`,
      };
    case 408:
    case 502:
    case 503:
    case 504:
      return {
        kind: 'offline',
        message: `The central server ${server} is not reachable right now (${status}); retrying.`,
      };
    default:
      break;
  }
  if (status !== undefined && status >= 500)
    return { kind: 'error', message: `The central server had an error (${status})${reason ? `: ${reason}` : ''}.` };
  if (status === undefined || status === 0 || /fetch failed|socket|network|terminated|aborted/i.test(reason))
    return { kind: 'offline', message: `The link to the central server ${server} was lost; retrying.` };
  return { kind: 'error', message: `The central server answered ${status}${reason ? `: ${reason}` : ''}.` };
}

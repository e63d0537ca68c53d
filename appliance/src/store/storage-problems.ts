/**
 * Storage faults that the appliance survives but must not hide: what /api/health reports as
 * `degraded` while they last, and the error that a request meeting one is answered with (503 and
 * a code from domain/errors.ts, never a 500 that says nothing).
 */
import type { ErrorCode } from '../../../domain/errors.js';

/** A storage fault going on now. */
export interface StorageProblem {
  /** `index-failing`: PouchDB refused an index batch (retried); `blob-not-durable`: an fsync of a received blob failed. */
  code: 'index-failing' | 'blob-not-durable';
  /** When it began (ISO 8601). */
  since: string;
  /** What failed, for the proctor or technician reading health or the log. */
  detail: string;
}

/**
 * A request that storage cannot serve right now: answered with `code`'s status (503) and message.
 * Nothing was acknowledged and nothing changed; the client may send it again.
 */
export class StorageUnavailableError extends Error {
  constructor(
    readonly code: Extract<ErrorCode, 'blob-not-durable' | 'index-unavailable'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

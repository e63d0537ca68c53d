/**
 * The two documents a box writes about itself for the institution (formats in docs/verifying.md):
 *
 * - `receipt-key:<applianceId>`: the box's Ed25519 public key for receipts, published once, so a
 *   receipt can be checked centrally against the key of the box that signed it, never against the
 *   key the receipt carries. It is written into the box's own database and pushed like an event,
 *   with a revision derived from its id and key: written again after a crash, it is the same
 *   revision (never a conflict).
 * - `appliance-status:<applianceId>`: the heartbeat (version, clock trust, the sync's state,
 *   pending and refused documents), PUT straight to the central database about every minute while
 *   the link is up; the only appliance document that is updated, and only by its own box.
 */
import { createHash } from 'node:crypto';
import type { SyncState } from '../domain/sync-status.js';

export const RECEIPT_KEY_PREFIX = 'receipt-key:';
export const receiptKeyDocId = (applianceId: string) => `${RECEIPT_KEY_PREFIX}${applianceId}`;
export const heartbeatDocId = (applianceId: string) => `appliance-status:${applianceId}`;

export interface ReceiptKeyDoc {
  _id: string;
  _rev: string;
  type: 'receipt-key';
  applianceId: string;
  hallId: string;
  algorithm: 'Ed25519';
  /** Base64 of the raw 32-byte Ed25519 public key (as in a receipt's publicKey). */
  publicKey: string;
  createdAt: string;
}

export function receiptKeyDoc(applianceId: string, hallId: string, publicKey: string, now: number): ReceiptKeyDoc {
  const _id = receiptKeyDocId(applianceId);
  const digest = createHash('md5').update(`${_id}\n${publicKey}`).digest('hex');
  return {
    _id,
    _rev: `1-${digest}`,
    type: 'receipt-key',
    applianceId,
    hallId,
    algorithm: 'Ed25519',
    publicKey,
    createdAt: new Date(now).toISOString(),
  };
}

/** Writes the receipt-key document into the box's database unless it is there already. */
export async function ensureReceiptKeyDoc(db: PouchDB.Database, doc: ReceiptKeyDoc): Promise<void> {
  const present = await db.allDocs({ keys: [doc._id] });
  const row = present.rows[0];
  if (row && 'value' in row && row.value && !row.value.deleted) return;
  const [result] = await db.bulkDocs([doc as unknown as PouchDB.Doc], { new_edits: false });
  if (result && 'error' in result && result.error) {
    throw new Error(`writing ${doc._id} failed: ${result.message ?? result.name ?? 'unknown'}`);
  }
}

export interface HeartbeatDoc {
  _id: string;
  _rev?: string;
  type: 'appliance-status';
  applianceId: string;
  hallId: string;
  version: string;
  /** The box's time when it wrote this (ISO), and whether that clock is trusted. */
  at: string;
  clockTrusted: boolean;
  state: Exclude<SyncState, 'off'>;
  lastContactAt: string | null;
  lastSuccessAt: string | null;
  pending: { docs: number; bytes: number } | null;
  /** Documents the central server refused and has not taken since. */
  refused: number;
  /** When the appliance process started (ISO). */
  startedAt: string;
}

/**
 * Keeps `appliance-status:<applianceId>` up to date on the central server: beat() PUTs the
 * current content over the last revision it knows (on a 409 it reads the revision and tries once
 * more). A failed beat is only logged once: the next one tries again.
 */
export class Heartbeat {
  private rev: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private lastFailure: string | undefined;

  constructor(
    private readonly remote: PouchDB.Database,
    private readonly content: () => Omit<HeartbeatDoc, '_id' | '_rev' | 'type'>,
    private readonly intervalMs: number,
    private readonly log: (level: 'info' | 'warn' | 'error', line: string) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  /** Writes the heartbeat now (one at a time; a beat asked for while one runs is skipped). */
  beat(): Promise<void> {
    this.beating ??= this.write().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async write(): Promise<void> {
    const body = this.content();
    const doc: HeartbeatDoc = { _id: heartbeatDocId(body.applianceId), type: 'appliance-status', ...body };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const result = await this.remote.put({ ...doc, ...(this.rev ? { _rev: this.rev } : {}) } as PouchDB.Doc);
        this.rev = result.rev;
        this.lastFailure = undefined;
        return;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 409 || (status === 400 && this.rev)) {
          this.rev = await this.remote.get(doc._id).then(
            (d) => d._rev,
            () => undefined,
          );
          continue;
        }
        const failure = `sync: the heartbeat was not written: ${(err as Error).message ?? String(err)}`;
        if (failure !== this.lastFailure) this.log('warn', failure);
        this.lastFailure = failure;
        return;
      }
    }
  }
}

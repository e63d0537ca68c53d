/**
 * Documents of this appliance that the central server refused. PouchDB's replicator reports a
 * refused write (`denied`) and moves its checkpoint past it, so without this list the document
 * would never be sent again and the box would say "Up to date". The list is kept in the sync's
 * `_local/sync-state`, shown in the status (state "error" while it is not empty), and offered
 * again at each (re)connection and "Sync now" with a one-shot replication of just those ids.
 */
import type { RefusedDoc } from '../domain/sync-status.js';

/** How many refused documents the status lists (the count is always whole). */
export const REFUSED_LISTED = 50;
/** Ids offered again per one-shot replication. */
const OFFER_BATCH = 100;

export class RefusedDocs {
  private readonly docs = new Map<string, RefusedDoc>();

  constructor(saved: readonly RefusedDoc[] = []) {
    for (const d of saved) this.docs.set(d.id, d);
  }

  /** Notes a refusal; returns whether the document was not already refused. */
  add(id: string, reason: string, at: string): boolean {
    const known = this.docs.get(id);
    if (known) {
      known.reason = reason;
      return false;
    }
    this.docs.set(id, { id, reason, at });
    return true;
  }

  take(id: string): boolean {
    return this.docs.delete(id);
  }

  get count(): number {
    return this.docs.size;
  }

  ids(): string[] {
    return [...this.docs.keys()];
  }

  /** Oldest first, at most REFUSED_LISTED. */
  listed(): RefusedDoc[] {
    return [...this.docs.values()].slice(0, REFUSED_LISTED).map((d) => ({ ...d }));
  }

  toJSON(): RefusedDoc[] {
    return [...this.docs.values()];
  }

  /** A line for the status' lastError. */
  describe(): string {
    const first = this.docs.values().next().value as RefusedDoc;
    const more = this.docs.size > 1 ? ` and ${this.docs.size - 1} more` : '';
    return `The central server refused ${first.id}${more}: ${first.reason.replace(/[.\s]+$/, '')}.`;
  }
}

/**
 * Offers the given documents to the central server again (one-shot replications of just those
 * ids). Returns the ids it took (written now, or already there) and those it refused again with
 * the reason; undefined when the server could not be reached (nothing is known).
 */
export async function offerAgain(
  db: PouchDB.Database,
  remote: PouchDB.Database,
  ids: readonly string[],
): Promise<{ taken: string[]; refused: Map<string, string> } | undefined> {
  const taken: string[] = [];
  const refused = new Map<string, string>();
  for (let i = 0; i < ids.length; i += OFFER_BATCH) {
    const batch = ids.slice(i, i + OFFER_BATCH);
    const denied = new Map<string, string>();
    try {
      // No checkpoint: a refused document is behind any checkpoint such an offer would write, so
      // the next offer would skip it; the replicator still asks _revs_diff, so nothing is sent twice.
      const options = {
        doc_ids: batch,
        batch_size: 8,
        batches_limit: 1,
        checkpoint: false,
      } as PouchDB.ReplicateOptions;
      const rep = db.replicate.to(remote, options);
      rep.on('denied', (err) => {
        const e = err as { id?: string; reason?: string; message?: string };
        if (e.id) denied.set(e.id, e.reason ?? e.message ?? 'forbidden');
      });
      await rep;
    } catch {
      return undefined;
    }
    for (const id of batch) {
      const reason = denied.get(id);
      if (reason === undefined) taken.push(id);
      else refused.set(id, reason);
    }
  }
  return { taken, refused };
}

/** Whether the central server holds this box's revision of `id` (false when it cannot tell). */
export async function heldCentrally(db: PouchDB.Database, remote: PouchDB.Database, id: string): Promise<boolean> {
  try {
    const rev = (await db.get(id))._rev!;
    return !(await remote.revsDiff({ [id]: [rev] }))[id]?.missing.includes(rev);
  } catch {
    return false;
  }
}

/**
 * Reassembling a blob from its chunk documents (`blob:<sha256>:<i>`, format in sync/blob-chunks.ts)
 * into a file, when a chunk may have more than one revision.
 *
 * A chunk document's revision says nothing collect relies on: whatever scheme makes it, a wrong
 * chunk and the right one can both be there as conflicting revisions of one id. The blob's
 * SHA-256 decides: for each chunk, collect takes the revision whose bytes make the whole blob
 * verify. It reads chunk by chunk in order, writing each at its place in the file and keeping
 * only the SHA-256 state after each chunk (never a whole blob in memory). When the whole does not
 * verify it goes back to the last chunk with another revision not yet tried and goes on from
 * there (bounded: at most MAX_ATTEMPTS complete passes). A chunk that is not there at all makes
 * the blob `missing`: no choice of revisions can replace it.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { ATTACHMENT_NAME, blobChunkId, CHUNK_BYTES, chunkCount } from '../../blob-chunks.js';

export type BlobOutcome =
  { status: 'ok'; size: number; detail: string } | { status: 'missing' | 'sha-mismatch'; detail: string };

/** Complete passes over a blob with conflicting chunk revisions before giving up. */
export const MAX_ATTEMPTS = 64;

const SHA256 = /^[0-9a-f]{64}$/;

interface Revision {
  rev: string;
  bytes: Buffer | undefined;
}

type Pass = { result: 'ok' } | { result: 'missing'; id: string } | { result: 'failed' } | { result: 'gave-up' };

/**
 * Writes the blob `sha256` of `size` bytes (the size the naming record gives) to `file` (created;
 * never overwritten) and checks it. On anything but `ok` the file is removed.
 */
export async function exportBlob(
  db: PouchDB.Database,
  sha256: string,
  size: number,
  file: string,
): Promise<BlobOutcome> {
  if (!SHA256.test(sha256)) return { status: 'sha-mismatch', detail: `${JSON.stringify(sha256)} is not a SHA-256` };
  if (!Number.isSafeInteger(size) || size < 0)
    return { status: 'sha-mismatch', detail: `the record gives no valid size (${JSON.stringify(size)})` };
  const fh = await open(file, 'wx');
  let outcome: BlobOutcome;
  try {
    outcome = await new Reassembly(db, sha256, size, fh).run();
  } finally {
    await fh.close();
  }
  if (outcome.status !== 'ok') await rm(file, { force: true });
  return outcome;
}

class Reassembly {
  private readonly count: number;
  /** Each chunk's revisions (winning one first), once read. */
  private readonly revisions: (string[] | undefined)[] = [];
  private readonly chosen: string[] = [];
  private attempts = 0;
  private firstDigest: string | undefined;
  /** Why the last revision passed over could not be the right one. */
  private rejected = '';

  constructor(
    private readonly db: PouchDB.Database,
    private readonly sha256: string,
    private readonly size: number,
    private readonly fh: FileHandle,
  ) {
    this.count = chunkCount(size);
  }

  async run(): Promise<BlobOutcome> {
    const pass = await this.from(0, createHash('sha256'));
    const conflicted = this.revisions.flatMap((revs, i) => (revs && revs.length > 1 ? [i] : []));
    const which = conflicted
      .map((i) => `${blobChunkId(this.sha256, i)} has ${this.revisions[i]!.length} revisions`)
      .join(', ');
    if (pass.result === 'ok')
      return {
        status: 'ok',
        size: this.size,
        detail:
          conflicted.length === 0
            ? ''
            : `${which}: took ${conflicted.map((i) => this.chosen[i]).join(', ')}, the one(s) that verify`,
      };
    if (pass.result === 'missing') return { status: 'missing', detail: `${pass.id} is not there (yet)` };
    if (conflicted.length === 0)
      return {
        status: 'sha-mismatch',
        detail: this.firstDigest === undefined ? this.rejected : `reassembled ${this.firstDigest}`,
      };
    return {
      status: 'sha-mismatch',
      detail: `${which}, and ${pass.result === 'gave-up' ? `none of the first ${MAX_ATTEMPTS} combinations` : 'no combination'} verifies`,
    };
  }

  private expectedLength(index: number): number {
    return Math.min(CHUNK_BYTES, this.size - index * CHUNK_BYTES);
  }

  /** Chunks `index` ... on, with `whole` holding the SHA-256 state of the chunks before. */
  private async from(index: number, whole: Hash): Promise<Pass> {
    if (index === this.count) {
      const digest = whole.digest('hex');
      this.firstDigest ??= digest;
      this.attempts++;
      return digest === this.sha256 ? { result: 'ok' } : { result: 'failed' };
    }
    const id = blobChunkId(this.sha256, index);
    let first: Revision | undefined;
    let revs = this.revisions[index];
    if (revs === undefined) {
      const doc = await this.read(id, undefined);
      if (doc === undefined) return { result: 'missing', id };
      revs = [doc.rev, ...doc.conflicts];
      this.revisions[index] = revs;
      first = doc;
    }
    let last: Pass = { result: 'failed' };
    for (const rev of revs) {
      if (this.attempts >= MAX_ATTEMPTS) return { result: 'gave-up' };
      const candidate = first?.rev === rev ? first : await this.read(id, rev);
      first = undefined;
      const bytes = candidate?.bytes;
      // A revision with no bytes, or with a length the blob's size rules out, cannot be the right one.
      if (!bytes || bytes.length !== this.expectedLength(index)) {
        this.rejected = bytes
          ? `${id} has ${bytes.length} bytes where the blob's size gives ${this.expectedLength(index)}`
          : `${id} has no bytes`;
        continue;
      }
      await this.fh.write(bytes, 0, bytes.length, index * CHUNK_BYTES);
      const next = whole.copy();
      next.update(bytes);
      this.chosen[index] = rev;
      last = await this.from(index + 1, next);
      if (last.result !== 'failed') return last;
    }
    return last;
  }

  /** One revision of a chunk (the winning one with its conflicts when `rev` is undefined); undefined when absent. */
  private async read(id: string, rev: string | undefined): Promise<(Revision & { conflicts: string[] }) | undefined> {
    let doc: { _rev: string; _conflicts?: string[]; _attachments?: Record<string, { data?: unknown }> };
    try {
      doc = (await this.db.get(id, {
        attachments: true,
        binary: true,
        ...(rev === undefined ? { conflicts: true } : { rev }),
      })) as unknown as typeof doc;
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) return undefined;
      throw err;
    }
    const data = doc._attachments?.[ATTACHMENT_NAME]?.data;
    const bytes = Buffer.isBuffer(data) ? data : typeof data === 'string' ? Buffer.from(data, 'base64') : undefined;
    return { rev: doc._rev, bytes, conflicts: [...(doc._conflicts ?? [])].sort() };
  }
}

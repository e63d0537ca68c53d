/**
 * Blob chunks: how the appliance's answer files, file answers, photos and proctoring snapshots (content-addressed
 * files under `data/blobs/`, not in PouchDB) travel to the central database.
 *
 * Format: a blob of `size` bytes with SHA-256 `sha256` becomes `count = max(1, ceil(size / 512 KiB))`
 * documents `blob:<sha256>:<index>` (index 0 ... count-1, not padded):
 *   { _id, type: "blob-chunk", schemaVersion, sha256, index, count, size, applianceId,
 *     _attachments: { chunk: { content_type: "application/octet-stream", data: <the bytes> } } }
 * where chunk `index` holds bytes [index * 512 KiB, min(size, (index + 1) * 512 KiB)). The chunk
 * size is capped because PouchDB's replication stalls on multi-megabyte attachments.
 *
 * Chunk documents are immutable, generation-1 and deterministic: their revision is derived from
 * the chunk's bytes (chunkRev: `1-` and the first 32 hex digits of SHA-256 of
 * "blob-chunk-rev/v2\n" followed by the bytes), so the same chunk written twice, or by two
 * appliances of one hall, is one revision; and a chunk with other bytes under the same id (a
 * damaged or forged one written first) is another generation-1 revision next to it, a conflict,
 * from which a verifier takes the revision whose bytes give the blob its SHA-256. The prefix
 * keeps a one-chunk blob's revision from being computed from its SHA-256 alone: a writer must
 * hold the bytes to claim their revision. (Chunks written before v2 carry revisions derived from
 * (sha256, index); they stay valid.)
 * They are derived data: the blob file is durable (fsynced before its event was acknowledged),
 * so the sync builds chunk documents lazily, from the blob files the appliance's events name,
 * and sends them straight to the central server (BlobPusher in blob-pusher.ts); it can always
 * build them again.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { SCHEMA_VERSION } from '../domain/exam-format.js';

/** Largest chunk: 512 KiB. */
export const CHUNK_BYTES = 512 * 1024;

export const ATTACHMENT_NAME = 'chunk';

export interface BlobChunkDoc {
  _id: string;
  _rev?: string;
  type: 'blob-chunk';
  schemaVersion: number;
  sha256: string;
  index: number;
  count: number;
  /** Size of the whole blob. */
  size: number;
  applianceId: string;
  _attachments: Record<string, { content_type: string; data?: string | Buffer; stub?: boolean; length?: number }>;
}

/** A chunk document without its attachment (what the box keeps of a chunk it pushed from its file). */
export type BlobChunkHead = Omit<BlobChunkDoc, '_attachments'>;

export const blobChunkId = (sha256: string, index: number) => `blob:${sha256}:${index}`;

export const chunkCount = (size: number) => Math.max(1, Math.ceil(size / CHUNK_BYTES));

const CHUNK_REV_PREFIX = 'blob-chunk-rev/v2\n';

/** The revision of a chunk document: from its bytes, so the same chunk has it everywhere. */
export const chunkRev = (bytes: Uint8Array) =>
  `1-${createHash('sha256').update(CHUNK_REV_PREFIX).update(bytes).digest('hex').slice(0, 32)}`;

/** The revision a chunk got before v2, from (sha256, index) alone: the same chunk where its bytes are. */
const legacyChunkRev = (sha256: string, index: number) =>
  `1-${createHash('sha256').update(`blob-chunk/v1|${sha256}|${index}`).digest('hex').slice(0, 32)}`;

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The blobs a document names: an appliance event whose data carries a `sha256` (an accepted
 * submission's answer file, a file answer, a verification photo, a proctoring snapshot).
 */
export function blobOfEvent(doc: {
  _id?: string;
  type?: unknown;
  data?: unknown;
}): { sha256: string; size: number } | undefined {
  if (doc.type !== 'event' || typeof doc.data !== 'object' || doc.data === null) return undefined;
  const data = doc.data as { sha256?: unknown; size?: unknown };
  if (typeof data.sha256 !== 'string' || !SHA256.test(data.sha256)) return undefined;
  return { sha256: data.sha256, size: typeof data.size === 'number' ? data.size : -1 };
}

/**
 * Writes the chunk documents of a blob file whose revisions the database does not hold yet, one
 * chunk at a time (never the whole file in memory). A chunk id that is there with other bytes
 * (another writer's revision, e.g. pulled from the central server) gets this file's revision
 * next to it. Returns how many were written; throws when the file is missing or its content
 * does not have the SHA-256 it is named by.
 */
export async function writeBlobChunks(
  db: PouchDB.Database,
  file: string,
  sha256: string,
  applianceId: string,
): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const count = chunkCount(size);
    const ids = Array.from({ length: count }, (_, i) => blobChunkId(sha256, i));
    const rows = await db.allDocs({ keys: ids });
    // Ids with no revision at all are written without asking; for the others the bytes decide.
    const absent = new Set(rows.rows.filter((r) => !r.value).map((r) => r.key));
    // Hash the whole file while reading it, and refuse to send a blob that is not what its name says.
    const whole = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const pending: BlobChunkDoc[] = [];
    let written = 0;
    for (let index = 0; index < count; index++) {
      const length = chunkLength(size, index);
      await readFully(fh, buf, length, index * CHUNK_BYTES, file);
      const bytes = buf.subarray(0, length);
      whole.update(bytes);
      const id = blobChunkId(sha256, index);
      const rev = chunkRev(bytes);
      if (!absent.has(id)) {
        const legacy = legacyChunkRev(sha256, index);
        const missing = (await db.revsDiff({ [id]: [rev, legacy] }))[id]?.missing ?? [];
        if (!missing.includes(rev)) continue;
        // Written before v2 with these very bytes: the same chunk, not another revision of it.
        if (!missing.includes(legacy) && (await holdsBytes(db, id, legacy, bytes))) continue;
      }
      pending.push(chunkDoc(chunkDocHead(sha256, index, size, applianceId, bytes), bytes));
      written++;
      // Written as soon as possible, so at most one chunk is held at a time... except the last,
      // which waits for the whole-file check below.
      if (index < count - 1) await writeChunkDocs(db, pending.splice(0));
    }
    const actual = whole.digest('hex');
    if (actual !== sha256) throw new Error(`${file}: content has SHA-256 ${actual}, not ${sha256}`);
    await writeChunkDocs(db, pending);
    return written;
  } finally {
    await fh.close();
  }
}

async function holdsBytes(db: PouchDB.Database, id: string, rev: string, bytes: Buffer): Promise<boolean> {
  const doc = (await db.get(id, { rev, attachments: true, binary: true })) as unknown as BlobChunkDoc;
  const data = doc._attachments[ATTACHMENT_NAME]?.data;
  const held = typeof data === 'string' ? Buffer.from(data, 'base64') : data;
  return held !== undefined && held.equals(bytes);
}

/** Bytes in chunk `index` of a blob of `size` bytes. */
export const chunkLength = (size: number, index: number) =>
  Math.max(0, Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES));

/** Reads exactly `length` bytes at `position` into `buf` (a file shorter than that is an error). */
export async function readFully(
  fh: FileHandle,
  buf: Buffer,
  length: number,
  position: number,
  file: string,
): Promise<void> {
  let read = 0;
  while (read < length) {
    const { bytesRead } = await fh.read(buf, read, length - read, position + read);
    if (bytesRead === 0) throw new Error(`${file}: shorter than expected`);
    read += bytesRead;
  }
}

/**
 * A chunk document without its attachment: every field and the revision. The box keeps these
 * as markers of chunks it pushes straight from its blob files (blob-pusher.ts); with the
 * attachment added (chunkDoc) it is the document the central server stores.
 */
export function chunkDocHead(
  sha256: string,
  index: number,
  size: number,
  applianceId: string,
  bytes: Uint8Array,
): BlobChunkHead {
  return {
    _id: blobChunkId(sha256, index),
    _rev: chunkRev(bytes),
    type: 'blob-chunk',
    schemaVersion: SCHEMA_VERSION,
    sha256,
    index,
    count: chunkCount(size),
    size,
    applianceId,
  };
}

/** The full chunk document: its head with the chunk's bytes as the attachment `chunk` (base64). */
export function chunkDoc(head: BlobChunkHead, bytes: Buffer): BlobChunkDoc {
  return {
    ...head,
    _attachments: { [ATTACHMENT_NAME]: { content_type: 'application/octet-stream', data: bytes.toString('base64') } },
  };
}

async function writeChunkDocs(db: PouchDB.Database, docs: BlobChunkDoc[]): Promise<void> {
  if (docs.length === 0) return;
  const results = await db.bulkDocs(docs as unknown as PouchDB.Doc[], { new_edits: false });
  for (const r of results) {
    if ('error' in r && r.error) throw new Error(`writing ${r.id ?? '?'} failed: ${r.message ?? r.name ?? 'unknown'}`);
  }
}

/** The outcome of reassembling a blob from its chunk documents. */
export type ReassembleResult =
  { ok: true; size: number } | { ok: false; reason: 'missing-chunk' | 'sha-mismatch' | 'bad-chunk'; detail: string };

/**
 * Reads a blob's chunks from a database (e.g. the central one), in order, one at a time, hands
 * each piece to `write` and checks the whole against its SHA-256. It reads each chunk's winning
 * revision, or `revs[index]` when given (a chunk with conflicting revisions: the ones that
 * verify, as sync/central/verify.ts resolveBlob finds them).
 */
export async function reassembleBlob(
  db: PouchDB.Database,
  sha256: string,
  write: (bytes: Buffer) => Promise<void> | void,
  revs?: readonly string[],
): Promise<ReassembleResult> {
  const whole = createHash('sha256');
  let count = 1;
  let size = 0;
  for (let index = 0; index < count; index++) {
    let doc: BlobChunkDoc;
    try {
      const rev = revs?.[index];
      doc = (await db.get(blobChunkId(sha256, index), {
        attachments: true,
        binary: true,
        ...(rev === undefined ? {} : { rev }),
      })) as unknown as BlobChunkDoc;
    } catch {
      return { ok: false, reason: 'missing-chunk', detail: `${blobChunkId(sha256, index)} is not there (yet)` };
    }
    const data = doc._attachments[ATTACHMENT_NAME]?.data;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : data;
    if (!bytes || doc.sha256 !== sha256 || doc.index !== index) {
      return { ok: false, reason: 'bad-chunk', detail: `${blobChunkId(sha256, index)} has no data or wrong fields` };
    }
    if (index === 0) count = doc.count;
    whole.update(bytes);
    size += bytes.length;
    await write(bytes);
  }
  const actual = whole.digest('hex');
  if (actual !== sha256) return { ok: false, reason: 'sha-mismatch', detail: `reassembled ${actual}` };
  return { ok: true, size };
}

/**
 * A chunk document as JSON, in pieces that can be streamed: the head's fields, then the
 * attachment `chunk` whose base64 `data` the caller writes between `prefix` and `suffix` (it has
 * `base64Length(bytes)` characters). The same document chunkDoc builds, without holding its
 * base64 as one string.
 */
export function chunkDocJson(head: BlobChunkHead): { prefix: string; suffix: string } {
  const fields = JSON.stringify(head);
  return {
    prefix: `${fields.slice(0, -1)},"_attachments":{"${ATTACHMENT_NAME}":{"content_type":"application/octet-stream","data":"`,
    suffix: '"}}}',
  };
}

/** Characters of the base64 of `n` bytes (with padding). */
export const base64Length = (n: number) => 4 * Math.ceil(n / 3);

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
 * Chunk documents are immutable and deterministic: their revision is derived from (sha256, index)
 * alone (chunkRev), so writing one twice, or by two appliances of one hall, never conflicts.
 * They are derived data: the blob file is durable (fsynced before its event was acknowledged),
 * so the sync builds chunk documents lazily, from the blob files the appliance's events name,
 * and sends them straight to the central server (BlobPusher in blob-pusher.ts); it can always
 * build them again.
 */
import { createHash, hash } from 'node:crypto';
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

/** The revision of a chunk document: from its content address, so it is the same everywhere. */
export const chunkRev = (sha256: string, index: number) =>
  `1-${hash('sha256', `blob-chunk/v1|${sha256}|${index}`, 'hex').slice(0, 32)}`;

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
 * Writes the chunk documents of a blob file that the database does not hold yet, one chunk at a
 * time (never the whole file in memory). Returns how many were written; throws when the file is
 * missing or its content does not have the SHA-256 it is named by.
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
    const present = await db.allDocs({ keys: ids });
    const missing = new Set(present.rows.filter((r) => !r.value || r.value.deleted).map((r) => r.key));
    if (missing.size === 0) return 0;
    // Hash the whole file while reading it, and refuse to send a blob that is not what its name says.
    const whole = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    const pending: BlobChunkDoc[] = [];
    for (let index = 0; index < count; index++) {
      const length = chunkLength(size, index);
      await readFully(fh, buf, length, index * CHUNK_BYTES, file);
      const bytes = buf.subarray(0, length);
      whole.update(bytes);
      const id = blobChunkId(sha256, index);
      if (!missing.has(id)) continue;
      pending.push(chunkDoc(chunkDocHead(sha256, index, size, applianceId), bytes));
      // Written as soon as possible, so at most one chunk is held at a time... except the last,
      // which waits for the whole-file check below.
      if (index < count - 1) await writeChunkDocs(db, pending.splice(0));
    }
    const actual = whole.digest('hex');
    if (actual !== sha256) throw new Error(`${file}: content has SHA-256 ${actual}, not ${sha256}`);
    await writeChunkDocs(db, pending);
    return missing.size;
  } finally {
    await fh.close();
  }
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
export function chunkDocHead(sha256: string, index: number, size: number, applianceId: string): BlobChunkHead {
  return {
    _id: blobChunkId(sha256, index),
    _rev: chunkRev(sha256, index),
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
 * each piece to `write` and checks the whole against its SHA-256.
 */
export async function reassembleBlob(
  db: PouchDB.Database,
  sha256: string,
  write: (bytes: Buffer) => Promise<void> | void,
): Promise<ReassembleResult> {
  const whole = createHash('sha256');
  let count = 1;
  let size = 0;
  for (let index = 0; index < count; index++) {
    let doc: BlobChunkDoc;
    try {
      doc = (await db.get(blobChunkId(sha256, index), { attachments: true, binary: true })) as unknown as BlobChunkDoc;
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

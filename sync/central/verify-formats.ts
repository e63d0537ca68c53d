/**
 * The formats that `sync -- verify` (verify.ts) checks, written from docs/verifying.md alone:
 * canonical JSON, an event's hash, an Ed25519 receipt key, and a blob reassembled from chunk
 * documents whose revisions may conflict. None of the appliance's or domain's code is used.
 */
import { createHash, createPublicKey, type Hash, type KeyObject } from 'node:crypto';

/** Largest chunk: 512 KiB (docs/verifying.md, "Blobs"). */
export const CHUNK_BYTES = 512 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A document as the server returns it. */
export type Doc = Record<string, unknown> & { _id: string; _rev?: string; _conflicts?: string[]; _deleted?: boolean };

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** A time in epoch ms (the appliance's clock, possibly set by a proctor: not always whole). */
export const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
export const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);
export const isHex64 = (v: unknown): v is string => typeof v === 'string' && HEX64.test(v);
export const isIso = (v: unknown): v is string => typeof v === 'string' && ISO.test(v);

// ---- The formats (docs/verifying.md) ----

/**
 * Canonical JSON: object members sorted by their names' UTF-16 code units, no whitespace,
 * members whose value is undefined left out, strings and numbers as ECMAScript's JSON.stringify
 * writes them (finite numbers only).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no non-finite numbers');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (isObject(value)) {
    const names = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${names.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON has no ${typeof value}`);
}

/** An event's hash: SHA-256 of the canonical JSON of its members but `hash` and the server's `_` ones (not `_id`). */
export function eventHashOf(doc: Record<string, unknown>): string {
  const hashed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'hash' || (k.startsWith('_') && k !== '_id')) continue;
    hashed[k] = v;
  }
  return createHash('sha256').update(canonicalJson(hashed), 'utf8').digest('hex');
}

/** An Ed25519 public key from its raw 32 bytes in base64, or why not. */
export function ed25519Key(base64: unknown): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  if (typeof base64 !== 'string') return { ok: false, reason: 'no publicKey' };
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== base64)
    return { ok: false, reason: 'publicKey is not 32 bytes in base64' };
  try {
    return {
      ok: true,
      key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' }),
    };
  } catch {
    return { ok: false, reason: 'publicKey is not an Ed25519 key' };
  }
}

// ---- Blobs ----

/** Every leaf revision of a document that is not deleted ([] when there is none). */
async function leaves(db: PouchDB.Database, id: string, attachments: boolean): Promise<Doc[]> {
  try {
    const rows = (await db.get(id, { open_revs: 'all', attachments })) as { ok?: Doc }[];
    return rows.flatMap((r) => (r.ok && !r.ok._deleted ? [r.ok] : []));
  } catch (err) {
    if ((err as { status?: number }).status === 404) return [];
    throw err;
  }
}

/** A chunk revision whose bytes do not belong to its blob, or that is not a chunk of it at all. */
export interface BadRevision {
  id: string;
  rev: string;
  reason: string;
}

/** Which revision of each chunk makes a blob verify. */
export type BlobResolution =
  | { ok: true; size: number; count: number; revs: string[]; badRevisions: BadRevision[] }
  | { ok: false; reason: 'missing' | 'incomplete' | 'mismatch'; detail: string; badRevisions: BadRevision[] };

interface Path {
  hash: Hash;
  size: number;
  count: number;
  revs: string[];
}

export const chunkId = (sha256: string, index: number) => `blob:${sha256}:${index}`;

function chunkBytes(
  doc: Doc,
  sha256: string,
  index: number,
): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  if (doc.type !== 'blob-chunk' || doc.sha256 !== sha256 || doc.index !== index)
    return { ok: false, reason: 'its type, sha256 or index name another chunk' };
  const { size, count } = doc;
  if (!isWhole(size) || !isWhole(count) || count !== Math.max(1, Math.ceil(size / CHUNK_BYTES)) || index >= count)
    return { ok: false, reason: `its size (${String(size)}) and count (${String(count)}) disagree` };
  const attachments = doc._attachments;
  const data = isObject(attachments) && isObject(attachments.chunk) ? attachments.chunk.data : undefined;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.isBuffer(data) ? data : undefined;
  if (!bytes) return { ok: false, reason: 'it has no attachment "chunk"' };
  const expected = Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES);
  if (bytes.length !== expected) return { ok: false, reason: `it holds ${bytes.length} bytes, not ${expected}` };
  return { ok: true, bytes };
}

/**
 * Finds, for each chunk of a blob, the revision that makes the whole blob have its SHA-256,
 * trying every combination of the chunks' revisions (at most `maxPaths` at once); reads one
 * chunk's revisions at a time. `collect` can read the blob with these revisions
 * (reassembleBlob's `revs`).
 */
export async function resolveBlob(db: PouchDB.Database, sha256: string, maxPaths = 64): Promise<BlobResolution> {
  const badRevisions: BadRevision[] = [];
  const fitting: { index: number; rev: string }[] = [];
  const complete: Path[] = [];
  let open: Path[] = [];
  let missingAt: number | undefined;
  for (let index = 0; index === 0 || open.length > 0; index++) {
    const id = chunkId(sha256, index);
    const revisions = await leaves(db, id, true);
    if (revisions.length === 0) {
      if (index === 0) return { ok: false, reason: 'missing', detail: `${id} is not there`, badRevisions };
      missingAt = index;
      break;
    }
    const next: Path[] = [];
    for (const revision of revisions) {
      const rev = revision._rev ?? '?';
      const chunk = chunkBytes(revision, sha256, index);
      if (!chunk.ok) {
        badRevisions.push({ id, rev, reason: chunk.reason });
        continue;
      }
      fitting.push({ index, rev });
      const size = revision.size as number;
      const count = revision.count as number;
      const from = index === 0 ? [{ hash: createHash('sha256'), size, count, revs: [] }] : open;
      for (const path of from) {
        if (path.size !== size || path.count !== count) continue;
        const hash = path.hash.copy().update(chunk.bytes);
        (index + 1 === count ? complete : next).push({ hash, size, count, revs: [...path.revs, rev] });
      }
    }
    if (next.length + complete.length > maxPaths) {
      return {
        ok: false,
        reason: 'mismatch',
        detail: `more than ${maxPaths} combinations of conflicting chunk revisions to try`,
        badRevisions,
      };
    }
    open = next;
  }
  const verifying = complete.filter((p) => p.hash.digest('hex') === sha256);
  const chosen = verifying[0];
  if (!chosen) {
    if (complete.length === 0 && missingAt !== undefined)
      return { ok: false, reason: 'incomplete', detail: `${chunkId(sha256, missingAt)} is not there`, badRevisions };
    return {
      ok: false,
      reason: 'mismatch',
      detail:
        complete.length === 0
          ? 'no revision of its chunks is a well-formed chunk of it'
          : `no combination of its chunks' revisions has SHA-256 ${sha256}`,
      badRevisions,
    };
  }
  const used = new Set(verifying.flatMap((p) => p.revs.map((rev, index) => `${index}/${rev}`)));
  for (const { index, rev } of fitting) {
    if (!used.has(`${index}/${rev}`))
      badRevisions.push({ id: chunkId(sha256, index), rev, reason: 'its bytes do not make the blob verify' });
  }
  return { ok: true, size: chosen.size, count: chosen.count, revs: chosen.revs, badRevisions };
}

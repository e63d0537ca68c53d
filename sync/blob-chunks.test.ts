/**
 * Chunk documents' revisions come from their bytes: the same chunk is one revision wherever it is
 * written, and a chunk with other bytes under the same id is another generation-1 revision next
 * to it (a conflict a verifier resolves), never a reason to skip writing the right one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobChunkId, CHUNK_BYTES, chunkRev, reassembleBlob, writeBlobChunks } from './blob-chunks.js';

PouchDB.plugin(memoryAdapter);

let dir: string;
let dbNo = 0;
const openDb = () => new PouchDB(`blob-chunks-test-${process.pid}-${dbNo++}`, { adapter: 'memory' });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function blobFile(bytes: Buffer): Promise<{ file: string; sha256: string }> {
  const sha256 = sha(bytes);
  const file = path.join(dir, sha256);
  await writeFile(file, bytes);
  return { file, sha256 };
}

/** The leaf revisions of a chunk with their bytes. */
async function leafBytes(db: PouchDB.Database, id: string): Promise<Map<string, Buffer>> {
  const rows = await db.get(id, { open_revs: 'all', attachments: true, binary: true });
  const out = new Map<string, Buffer>();
  for (const r of rows) {
    const data = (r.ok?._attachments as Record<string, { data: Buffer | string }> | undefined)?.chunk?.data;
    if (r.ok?._rev && data !== undefined)
      out.set(r.ok._rev, Buffer.isBuffer(data) ? data : Buffer.from(data, 'base64'));
  }
  return out;
}

/** A chunk document as another writer would put it (e.g. pulled from the central server). */
function foreignChunk(sha256: string, index: number, size: number, bytes: Buffer, rev = chunkRev(bytes)) {
  return {
    _id: blobChunkId(sha256, index),
    _rev: rev,
    type: 'blob-chunk',
    schemaVersion: 1,
    sha256,
    index,
    count: Math.max(1, Math.ceil(size / CHUNK_BYTES)),
    size,
    applianceId: 'box-other',
    _attachments: { chunk: { content_type: 'application/octet-stream', data: bytes.toString('base64') } },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blob-chunks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chunk revisions', () => {
  it('come from the bytes alone, and not from the blob’s SHA-256', () => {
    const bytes = randomBytes(1000);
    expect(chunkRev(bytes)).toBe(chunkRev(Buffer.from(bytes)));
    expect(chunkRev(bytes)).toMatch(/^1-[0-9a-f]{32}$/);
    expect(chunkRev(randomBytes(1000))).not.toBe(chunkRev(bytes));
    // A one-chunk blob's revision cannot be computed from the SHA-256 that names it.
    expect(chunkRev(bytes)).not.toBe(`1-${sha(bytes).slice(0, 32)}`);
    expect(chunkRev(bytes)).toBe(
      `1-${createHash('sha256').update('blob-chunk-rev/v2\n').update(bytes).digest('hex').slice(0, 32)}`,
    );
  });

  it('make the same chunk one revision, written twice or by two appliances', async () => {
    const { file, sha256 } = await blobFile(randomBytes(CHUNK_BYTES + 1000));
    const a = openDb();
    const b = openDb();
    expect(await writeBlobChunks(a, file, sha256, 'box-a')).toBe(2);
    expect(await writeBlobChunks(a, file, sha256, 'box-a')).toBe(0);
    expect(await writeBlobChunks(b, file, sha256, 'box-b')).toBe(2);
    for (const index of [0, 1]) {
      const id = blobChunkId(sha256, index);
      const docA = await a.get(id, { conflicts: true });
      expect(docA._conflicts).toBeUndefined();
      expect(docA._rev).toBe((await b.get(id))._rev);
    }
    // b's copy replicated into a is nothing new.
    await b.replicate.to(a);
    expect((await a.get(blobChunkId(sha256, 0), { conflicts: true }))._conflicts).toBeUndefined();
    await a.destroy();
    await b.destroy();
  });

  it('let the right chunk join a wrong one under the same id, as a second generation-1 revision', async () => {
    const bytes = randomBytes(CHUNK_BYTES + 5000);
    const { file, sha256 } = await blobFile(bytes);
    const db = openDb();
    const wrong = randomBytes(5000);
    await db.bulkDocs([foreignChunk(sha256, 1, bytes.length, wrong)], { new_edits: false });
    expect(await writeBlobChunks(db, file, sha256, 'box-a')).toBe(2);
    const leaves = await leafBytes(db, blobChunkId(sha256, 1));
    expect([...leaves.keys()].sort()).toEqual([chunkRev(wrong), chunkRev(bytes.subarray(CHUNK_BYTES))].sort());
    expect([...leaves.keys()].every((rev) => rev.startsWith('1-'))).toBe(true);
    expect(leaves.get(chunkRev(bytes.subarray(CHUNK_BYTES)))?.equals(bytes.subarray(CHUNK_BYTES))).toBe(true);
    // Written again: nothing new.
    expect(await writeBlobChunks(db, file, sha256, 'box-a')).toBe(0);
    // Reading the revisions that verify gives the blob back.
    const parts: Buffer[] = [];
    const result = await reassembleBlob(db, sha256, (b) => void parts.push(Buffer.from(b)), [
      chunkRev(bytes.subarray(0, CHUNK_BYTES)),
      chunkRev(bytes.subarray(CHUNK_BYTES)),
    ]);
    expect(result).toEqual({ ok: true, size: bytes.length });
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    await db.destroy();
  });

  it('take a chunk written before v2 (revision from sha256 and index) as the same chunk only when its bytes are', async () => {
    const legacy = (sha256: string, index: number) =>
      `1-${createHash('sha256').update(`blob-chunk/v1|${sha256}|${index}`).digest('hex').slice(0, 32)}`;
    const bytes = randomBytes(3000);
    const { file, sha256 } = await blobFile(bytes);
    const same = openDb();
    await same.bulkDocs([foreignChunk(sha256, 0, bytes.length, bytes, legacy(sha256, 0))], { new_edits: false });
    expect(await writeBlobChunks(same, file, sha256, 'box-a')).toBe(0);
    const forged = openDb();
    await forged.bulkDocs([foreignChunk(sha256, 0, bytes.length, randomBytes(3000), legacy(sha256, 0))], {
      new_edits: false,
    });
    expect(await writeBlobChunks(forged, file, sha256, 'box-a')).toBe(1);
    expect([...(await leafBytes(forged, blobChunkId(sha256, 0))).keys()].sort()).toEqual(
      [legacy(sha256, 0), chunkRev(bytes)].sort(),
    );
    await same.destroy();
    await forged.destroy();
  });

  it('refuses to send a file that is not what its SHA-256 says', async () => {
    const file = path.join(dir, 'damaged');
    await writeFile(file, 'not these bytes');
    const db = openDb();
    await expect(writeBlobChunks(db, file, 'f'.repeat(64), 'box-a')).rejects.toThrow(/content has SHA-256/);
    expect((await db.allDocs()).rows).toEqual([]);
    await db.destroy();
  });
});

/**
 * The index checkpoint: a note, written only at a clean shutdown, that the first N bytes of the
 * journal are durably in PouchDB, so that the next start need not replay them. Without it (after
 * a crash or a power cut) the start checks every journal document against the database.
 *
 * Why it is sound: PouchDB's LevelDB does not fsync its writes, so at shutdown, after every
 * journal record has been indexed and the database is closed, every file of the database and its
 * folder are fsynced; only then is the checkpoint written (temp file, fsync, rename, fsync the
 * folder). LevelDB never loses data that is on disk by rewriting it later: compaction writes and
 * syncs new table files before it drops old ones. The checkpoint is removed (and the removal
 * fsynced) at start before anything is written, so it exists only while the database is closed
 * and on disk, and any later crash falls back to the full check.
 *
 * File `journal/index-checkpoint.json`:
 *   { "format": "index-checkpoint/v1", "journalBytes": N,
 *     "lastRecord": { "offset": S, "checksum": "<16 hex>" } | null, "token": "<32 hex>" }
 * It is trusted only if
 *   - the database holds `_local/index-checkpoint` with the same token (written just before the
 *     database was closed: a deleted, replaced or restored database does not have it), and
 *   - the journal still holds, at bytes S to N, a record line with that checksum (the journal is
 *     the one the checkpoint was taken against, and at least that long).
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { HallDb } from './database.js';
import { fsyncDir, writeFileDurably } from './fs-durable.js';
import { recordChecksum, type JournalPosition } from './journal.js';

export const CHECKPOINT_FILE = 'index-checkpoint.json';
const LOCAL_DOC_ID = '_local/index-checkpoint';

const checkpointSchema = z.strictObject({
  format: z.literal('index-checkpoint/v1'),
  journalBytes: z.number().int().min(0),
  lastRecord: z
    .strictObject({ offset: z.number().int().min(0), checksum: z.string().regex(/^[0-9a-f]{16}$/) })
    .nullable(),
  token: z.string().regex(/^[0-9a-f]{32}$/),
});
export type IndexCheckpoint = z.infer<typeof checkpointSchema>;

/**
 * Reads the checkpoint left by the last clean shutdown and removes it (durably), whatever it
 * says. Returns the number of journal bytes the database is known to hold, 0 when none.
 */
export async function takeCheckpoint(journalDir: string, db: HallDb): Promise<number> {
  const file = path.join(journalDir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  await rm(file, { force: true });
  await fsyncDir(journalDir);
  let checkpoint: IndexCheckpoint;
  try {
    checkpoint = checkpointSchema.parse(JSON.parse(text));
  } catch {
    return 0;
  }
  const local = await db.get(LOCAL_DOC_ID).catch(() => undefined);
  if (local?.token !== checkpoint.token) return 0;
  if (checkpoint.journalBytes === 0) return 0;
  const last = checkpoint.lastRecord;
  if (
    !last ||
    !(await journalHasRecord(path.join(journalDir, 'journal.log'), last.offset, checkpoint.journalBytes, last.checksum))
  )
    return 0;
  return checkpoint.journalBytes;
}

/** True when the journal holds a valid record with `checksum` from byte `offset` to `end`. */
async function journalHasRecord(filePath: string, offset: number, end: number, checksum: string): Promise<boolean> {
  const length = end - offset;
  if (length < 19) return false;
  let fh;
  try {
    fh = await open(filePath, 'r');
  } catch {
    return false;
  }
  try {
    const line = Buffer.alloc(length);
    const { bytesRead } = await fh.read(line, 0, length, offset);
    return (
      bytesRead === length &&
      line[length - 1] === 0x0a &&
      line[16] === 0x09 &&
      line.subarray(0, 16).toString('latin1') === checksum &&
      recordChecksum(line.subarray(17, length - 1)) === checksum
    );
  } finally {
    await fh.close();
  }
}

/**
 * Marks the database (still open) as holding the journal up to `position`; returns the
 * checkpoint to write with writeCheckpoint once the database is closed and synced.
 */
export async function markDatabase(db: HallDb, position: JournalPosition): Promise<IndexCheckpoint> {
  const token = randomBytes(16).toString('hex');
  const existing = await db.get(LOCAL_DOC_ID).catch(() => undefined);
  await db.put({ _id: LOCAL_DOC_ID, ...(existing?._rev ? { _rev: existing._rev } : {}), token });
  return { format: 'index-checkpoint/v1', journalBytes: position.bytes, lastRecord: position.lastRecord, token };
}

/** fsyncs every file of the (closed) database folder and the folder, then writes the checkpoint. */
export async function writeCheckpoint(journalDir: string, dbDir: string, checkpoint: IndexCheckpoint): Promise<void> {
  for (const entry of await readdir(dbDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const fh = await open(path.join(dbDir, entry.name), 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  await fsyncDir(dbDir);
  await writeFileDurably(path.join(journalDir, CHECKPOINT_FILE), `${JSON.stringify(checkpoint)}\n`);
}

/**
 * The hall database (PouchDB). On disk it is LevelDB under `<dataDir>/db/hall`; tests may use
 * the memory adapter. LevelDB writes are not fsynced: appliance-owned documents reach it only
 * through the journal (see journal.ts), which is replayed into it at every start.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import type { JournalDoc } from './journal.js';

PouchDB.plugin(memoryAdapter);

export type HallDb = PouchDB.Database;

/** Opens the hall database: on disk under dataDir, or in memory when `memory` is set. */
export async function openHallDb(dataDir: string, memory = false): Promise<HallDb> {
  if (memory) return new PouchDB(`hall-${Math.random().toString(36).slice(2)}`, { adapter: 'memory' });
  const dir = path.join(dataDir, 'db');
  await mkdir(dir, { recursive: true });
  return new PouchDB(path.join(dir, 'hall'), { auto_compaction: true });
}

/**
 * The revision of an immutable appliance-owned document: derived from its content, so writing
 * the same document twice (journal replay, re-sent replication) is a no-op and never a conflict.
 */
export function immutableRev(doc: JournalDoc): string {
  const { _rev: _r, ...rest } = doc;
  return `1-${createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 32)}`;
}

/** Writes immutable documents with their content revisions (idempotent), in batches. */
export async function putImmutable(db: HallDb, docs: readonly JournalDoc[], batch = 500): Promise<void> {
  for (let i = 0; i < docs.length; i += batch) {
    const slice = docs.slice(i, i + batch).map((d) => ({ ...d, _rev: immutableRev(d) }));
    const results = await db.bulkDocs(slice, { new_edits: false });
    for (const r of results) {
      if ('error' in r && r.error)
        throw new Error(`indexing ${r.id ?? '?'} failed: ${r.message ?? r.name ?? 'unknown'}`);
    }
  }
}

/** Every document whose id starts with `prefix`, in id order, page by page. */
export async function* docsWithPrefix<T>(db: HallDb, prefix: string, pageSize = 2_000): AsyncGenerator<T[]> {
  let startkey = prefix;
  let skip = 0;
  for (;;) {
    const page = await db.allDocs({ startkey, endkey: `${prefix}\ufff0`, include_docs: true, limit: pageSize, skip });
    const docs = page.rows.flatMap((r) => ('doc' in r && r.doc ? [r.doc as unknown as T] : []));
    if (docs.length > 0) yield docs;
    if (page.rows.length < pageSize) return;
    const last = page.rows[page.rows.length - 1];
    if (!last) return;
    startkey = last.id;
    skip = 1;
  }
}

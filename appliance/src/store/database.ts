/**
 * The hall database (PouchDB). On disk it is LevelDB under `<dataDir>/db/hall`; tests may use
 * the memory adapter. LevelDB writes are not fsynced: appliance-owned documents reach it only
 * through the journal (see journal.ts), which is replayed into it at start: whatever the index
 * checkpoint of a clean shutdown does not cover (index-checkpoint.ts), or, after a crash, every
 * document the database does not hold with its content revision.
 */
import { hash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import PouchDB from 'pouchdb';
import type { JournalDoc } from './journal.js';

export type HallDb = PouchDB.Database;

/** The folder of the on-disk database (LevelDB). */
export const hallDbDir = (dataDir: string) => path.join(dataDir, 'db', 'hall');

/**
 * The memory adapter, loaded only when asked for: it is a development dependency (tests), and
 * loading it costs the appliance several MB of memory it never uses.
 */
let memoryAdapterLoaded: Promise<void> | undefined;
const loadMemoryAdapter = () =>
  (memoryAdapterLoaded ??= import('pouchdb-adapter-memory').then(({ default: adapter }) => {
    PouchDB.plugin(adapter);
  }));

/** Opens the hall database: on disk under dataDir, or in memory when `memory` is set. */
export async function openHallDb(dataDir: string, memory = false): Promise<HallDb> {
  if (memory) {
    await loadMemoryAdapter();
    return new PouchDB(`hall-${Math.random().toString(36).slice(2)}`, { adapter: 'memory' });
  }
  const dir = hallDbDir(dataDir);
  await mkdir(path.dirname(dir), { recursive: true });
  return new PouchDB(dir, { auto_compaction: true });
}

/**
 * The revision of an immutable appliance-owned document: derived from its content, so writing
 * the same document twice (journal replay, re-sent replication) is a no-op and never a conflict.
 */
export function immutableRev(doc: JournalDoc): string {
  // Journal documents carry no _rev, so most need no copy without it (the JSON is the same).
  let content: object = doc;
  if ('_rev' in doc) {
    const { _rev: _r, ...rest } = doc;
    content = rest;
  }
  return `1-${hash('sha256', JSON.stringify(content), 'hex').slice(0, 32)}`;
}

/** Writes immutable documents with their content revisions (idempotent), in batches. */
export async function putImmutable(db: HallDb, docs: readonly JournalDoc[], batch = 500): Promise<void> {
  for (let i = 0; i < docs.length; i += batch) {
    await putRevisions(
      db,
      docs.slice(i, i + batch).map((d) => ({ ...d, _rev: immutableRev(d) })),
    );
  }
}

/** Writes documents that carry their content revision already (see immutableRev). */
export async function putRevisions(db: HallDb, docs: PouchDB.Doc[]): Promise<void> {
  const results = await db.bulkDocs(docs, { new_edits: false });
  for (const r of results) {
    if ('error' in r && r.error) throw new Error(`indexing ${r.id ?? '?'} failed: ${r.message ?? r.name ?? 'unknown'}`);
  }
}

/**
 * The id and winning revision of every live document (no bodies: a scan of the id index, far
 * cheaper than reading documents or looking up ids one by one with `keys`).
 */
export async function documentRevisions(db: HallDb, pageSize = 10_000): Promise<Map<string, string>> {
  const revs = new Map<string, string>();
  let startkey: string | undefined;
  for (;;) {
    const page = await db.allDocs({
      limit: pageSize,
      ...(startkey === undefined ? {} : { startkey, skip: 1 }),
    });
    for (const r of page.rows) revs.set(r.id, r.value.rev);
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < pageSize || !last) return revs;
    startkey = last.id;
  }
}

/** A range of ids: from `start` to `end`, each included unless said otherwise. */
export interface IdRange {
  start: string;
  end: string;
  startExclusive?: boolean;
  endExclusive?: boolean;
}

/** Every document whose id lies in `range`, in id order, page by page. */
export async function* docsInRange<T>(db: HallDb, range: IdRange, pageSize = 2_000): AsyncGenerator<T[]> {
  let startkey = range.start;
  let skipFirst = range.startExclusive ?? false;
  for (;;) {
    const page = await db.allDocs({
      startkey,
      endkey: range.end,
      inclusive_end: !(range.endExclusive ?? false),
      include_docs: true,
      limit: pageSize,
    });
    let rows = page.rows;
    if (skipFirst && rows[0]?.id === startkey) rows = rows.slice(1);
    const docs = rows.flatMap((r) => ('doc' in r && r.doc ? [r.doc as unknown as T] : []));
    if (docs.length > 0) yield docs;
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < pageSize || !last) return;
    startkey = last.id;
    skipFirst = true;
  }
}

/** Every document whose id starts with `prefix`, in id order, page by page. */
export function docsWithPrefix<T>(db: HallDb, prefix: string, pageSize = 2_000): AsyncGenerator<T[]> {
  return docsInRange<T>(db, { start: prefix, end: `${prefix}\ufff0` }, pageSize);
}

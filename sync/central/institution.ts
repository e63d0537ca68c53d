/**
 * The institution's side: publish an exam and its roster into a hall's central database, install
 * the hall's design document and security object, and collect the results (collect/index.ts).
 * The CLI (sync/cli.ts) reads files and flags; this module only talks to the database.
 */
import type { ExamDoc, ExamineeDoc } from '../../domain/exam-format.js';
import { authHeaders, type CentralLink, hallDbName } from '../central-link.js';
import { hallDesignDoc } from './validate-doc-update.js';

export { CollectRefusal, collectSubmissions, type CollectOptions, type CollectReport } from './collect/index.js';

/** Documents in pages, so that a hall of any size is read in bounded memory. */
async function* docsWithPrefix<T>(db: PouchDB.Database, prefix: string, pageSize = 500): AsyncGenerator<T[]> {
  let startkey = prefix;
  let skip = 0;
  for (;;) {
    const page = await db.allDocs({ startkey, endkey: `${prefix}\ufff0`, include_docs: true, limit: pageSize, skip });
    const docs = page.rows.flatMap((r) => (r.doc ? [r.doc as unknown as T] : []));
    if (docs.length > 0) yield docs;
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < pageSize || !last) return;
    startkey = last.id;
    skip = 1;
  }
}

/** Writes documents, replacing earlier versions (institution-owned documents are mutable). */
async function upsert(
  db: PouchDB.Database,
  docs: PouchDB.Doc[],
): Promise<{ created: number; updated: number; unchanged: number }> {
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (let i = 0; i < docs.length; i += 500) {
    const batch = docs.slice(i, i + 500);
    const existing = await db.allDocs({ keys: batch.map((d) => d._id), include_docs: true });
    const byId = new Map(existing.rows.flatMap((r) => (r.doc ? [[r.id, r.doc] as const] : [])));
    const writes: PouchDB.Doc[] = [];
    for (const doc of batch) {
      const old = byId.get(doc._id);
      const { _rev: _ignored, ...content } = doc;
      if (old) {
        const { _rev: oldRev, ...oldContent } = old;
        if (stableJson(oldContent) === stableJson(content)) {
          counts.unchanged++;
          continue;
        }
        writes.push({ ...content, _id: doc._id, _rev: oldRev });
        counts.updated++;
      } else {
        writes.push({ ...content, _id: doc._id });
        counts.created++;
      }
    }
    if (writes.length === 0) continue;
    const results = await db.bulkDocs(writes);
    const failed = results.find((r) => 'error' in r && r.error);
    if (failed) throw new Error(`writing ${failed.id ?? '?'} failed: ${'message' in failed ? failed.message : ''}`);
  }
  return counts;
}

export interface PublishReport {
  exam: 'created' | 'updated' | 'unchanged';
  examinees: { created: number; updated: number; unchanged: number };
  /** Examinees on the central roster that the new roster no longer has (kept: see docs/sync.md). */
  notInRoster: string[];
}

/** Publishes an exam and its roster (documents as the appliance's import makes them). */
export async function publishExam(
  db: PouchDB.Database,
  exam: ExamDoc,
  examinees: readonly ExamineeDoc[],
): Promise<PublishReport> {
  const examResult = await upsert(db, [exam as unknown as PouchDB.Doc]);
  const examineeResult = await upsert(db, examinees as unknown as PouchDB.Doc[]);
  const listed = new Set(examinees.map((e) => e._id));
  const notInRoster: string[] = [];
  for await (const page of docsWithPrefix<ExamineeDoc>(db, `examinee:${exam.examId}:`)) {
    for (const e of page) if (!listed.has(e._id)) notInRoster.push(e.studentId);
  }
  return {
    exam: examResult.created ? 'created' : examResult.updated ? 'updated' : 'unchanged',
    examinees: examineeResult,
    notInRoster,
  };
}

/** Installs (or updates) `_design/hall`. Returns whether it changed. */
export async function installDesign(
  db: PouchDB.Database,
  hallId: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const result = await upsert(db, [hallDesignDoc(hallId) as unknown as PouchDB.Doc]);
  return result.created ? 'created' : result.updated ? 'updated' : 'unchanged';
}

/**
 * Sets the hall database's security object: only the hall's user (and admins) may read or write
 * it. Returns false when the server has no `_security` endpoint (the test stand-in).
 */
export async function setHallSecurity(link: CentralLink, hallId: string, members: string[]): Promise<boolean> {
  const res = await fetch(`${link.baseUrl}/${hallDbName(hallId)}/_security`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...authHeaders(link) },
    body: JSON.stringify({ admins: { names: [], roles: [] }, members: { names: members, roles: [] } }),
  });
  if (res.status === 404 || res.status === 405) return false;
  if (!res.ok)
    throw Object.assign(new Error(`setting the security object: ${res.status} ${await res.text()}`), {
      status: res.status,
    });
  return true;
}

/** JSON with object keys sorted, to compare documents whatever order a server returns them in. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

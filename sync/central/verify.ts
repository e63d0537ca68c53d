/**
 * `npm run sync -- verify --hall <id>`: checks a hall's central database on its own, from the
 * formats in docs/verifying.md and nothing else. The canonical JSON, the hash chain check, the
 * chunk reassembly and the Ed25519 check are written here again from that spec, with node:crypto,
 * and import none of the appliance's or domain's code, so a fault there is not repeated here.
 *
 * What it checks (docs/verifying.md says which check is also made by validate_doc_update):
 * - Each event chain (one per exam and appliance), in seq order: ids against fields, each
 *   event's `hash` (SHA-256 of its canonical JSON without `hash` and the server's `_` members
 *   other than `_id`), each `prevHash` against the previous event's `hash` (64 zeros at seq 1),
 *   gaps in seq, and forks (an event with more than one revision).
 * - Each submission (both id forms of contract C1): ids against fields, a roster entry
 *   `examinee:<examId>:<studentId>` for it, its receipt's payload against the document, and the
 *   receipt's Ed25519 signature against the key its box published (`receipt-key:<applianceId>`,
 *   contract C2), never against the key the receipt carries.
 * - Each blob that a submission or event names, or that has chunks: every chunk there, and the
 *   SHA-256 of the whole; where a chunk has several revisions (a wrong one and the right one),
 *   the one whose bytes make the blob verify is taken, and the others are reported.
 * - `_conflicts` on anything other than chunks; receipt keys and heartbeats (contract C3) of the
 *   right shape and hall; a box's heartbeat saying the server refused some of its documents.
 * The formats themselves are in verify-formats.ts. It reads the database page by page (events,
 * submissions and roster in bounded memory, one chunk's revisions at a time) and never writes.
 */
import { verify as ed25519Verify, type KeyObject } from 'node:crypto';
import {
  canonicalJson,
  chunkId,
  type Doc,
  ed25519Key,
  eventHashOf,
  isHex64,
  isId,
  isIso,
  isObject,
  isTime,
  isWhole,
  resolveBlob,
} from './verify-formats.js';

export { canonicalJson, eventHashOf, resolveBlob, type BadRevision, type BlobResolution } from './verify-formats.js';

/** What is wrong; each problem names the document (and revision) it is about. */
export type ProblemCode =
  | 'malformed'
  | 'conflict'
  | 'event-hash'
  | 'event-prev-hash'
  | 'chain-gap'
  | 'chain-fork'
  | 'receipt-key-missing'
  | 'receipt-other-key'
  | 'receipt-signature'
  | 'receipt-payload'
  | 'not-on-roster'
  | 'blob-missing'
  | 'blob-mismatch'
  | 'blob-size'
  | 'chunk-bad-revision'
  | 'other-hall'
  | 'refused-documents';

export interface VerifyProblem {
  code: ProblemCode;
  /** The document the problem is about. */
  id: string;
  /** The revision, where it matters (conflicts, a chunk's bad revision). */
  rev?: string;
  message: string;
}

export interface VerifyReport {
  hallId: string;
  ok: boolean;
  counts: {
    events: number;
    chains: number;
    submissions: number;
    receiptsVerified: number;
    receiptKeys: number;
    rosterEntries: number;
    blobs: number;
    blobsVerified: number;
    chunks: number;
    heartbeats: number;
  };
  problems: VerifyProblem[];
  /** What could not be checked, and why (not problems: e.g. an exam whose roster was imported on the box, not published). */
  notes: string[];
}
const GENESIS = '0'.repeat(64);
const RECEIPT_V1_FIELDS = [
  'format',
  'applianceId',
  'hallId',
  'examId',
  'studentId',
  'submissionId',
  'n',
  'sha256',
  'size',
  'submissionType',
  'receivedAt',
];
const RECEIPT_V2_FIELDS = [...RECEIPT_V1_FIELDS, 'timing'];
const HEARTBEAT_STATES = ['idle', 'syncing', 'offline', 'error'];

// ---- Reading the database ----

/** Documents of an id range in pages (include_docs, conflicts), so a hall of any size fits in memory. */
async function* pages(
  db: PouchDB.Database,
  range: { startkey?: string; endkey?: string; inclusiveEnd?: boolean },
  options: { docs: boolean; pageSize: number },
): AsyncGenerator<{ id: string; doc: Doc | undefined }[]> {
  let startkey = range.startkey;
  let skip = 0;
  for (;;) {
    const page = await db.allDocs({
      ...(startkey === undefined ? {} : { startkey }),
      ...(range.endkey === undefined ? {} : { endkey: range.endkey, inclusive_end: range.inclusiveEnd ?? true }),
      include_docs: options.docs,
      ...(options.docs ? { conflicts: true } : {}),
      limit: options.pageSize,
      skip,
    });
    const rows = page.rows.filter((r) => !('error' in r));
    if (rows.length > 0) yield rows.map((r) => ({ id: r.id, doc: r.doc as unknown as Doc | undefined }));
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < options.pageSize || !last) return;
    startkey = last.id;
    skip = 1;
  }
}

const prefixRange = (prefix: string) => ({ startkey: prefix, endkey: `${prefix}\ufff0` });

async function otherRevisions(db: PouchDB.Database, doc: Doc): Promise<Doc[]> {
  const revs = doc._conflicts ?? [];
  if (revs.length === 0) return [];
  const rows = (await db.get(doc._id, { open_revs: revs })) as { ok?: Doc }[];
  return rows.flatMap((r) => (r.ok ? [r.ok] : []));
}

// ---- The hall ----

interface ChainState {
  lastSeq: number;
  /** The hashes the next event may name as prevHash: more than one after a fork whose versions all verify. */
  lastHashes: string[];
}

type KeyEntry = { ok: true; key: KeyObject; publicKey: string } | { ok: false; reason: string };

/** Whoever names a blob, with the size they say it has. */
interface BlobName {
  by: string;
  size: number | undefined;
}

class HallVerifier {
  readonly problems: VerifyProblem[] = [];
  readonly counts: VerifyReport['counts'] = {
    events: 0,
    chains: 0,
    submissions: 0,
    receiptsVerified: 0,
    receiptKeys: 0,
    rosterEntries: 0,
    blobs: 0,
    blobsVerified: 0,
    chunks: 0,
    heartbeats: 0,
  };
  private readonly keys = new Map<string, KeyEntry>();
  private readonly roster = new Set<string>();
  /** Exams with at least one roster entry in the hall database. */
  private readonly rosterExams = new Set<string>();
  /** Exams with submissions but no roster in the hall database (imported on a box). */
  readonly noCentralRoster = new Set<string>();
  private readonly chains = new Map<string, ChainState>();
  private readonly named = new Map<string, BlobName[]>();

  constructor(
    private readonly db: PouchDB.Database,
    private readonly hallId: string,
    private readonly pageSize: number,
  ) {}

  private flag(code: ProblemCode, id: string, message: string, rev?: string): void {
    this.problems.push({ code, id, ...(rev === undefined ? {} : { rev }), message });
  }

  async run(): Promise<void> {
    const docs = { docs: true, pageSize: this.pageSize };
    // Receipt keys and the roster first: submissions are checked against them as they stream by.
    for await (const page of pages(this.db, prefixRange('receipt-key:'), docs))
      for (const { doc } of page) if (doc) this.receiptKey(doc);
    for await (const page of pages(this.db, prefixRange('examinee:'), { docs: false, pageSize: this.pageSize }))
      for (const { id } of page) {
        this.roster.add(id);
        this.rosterExams.add(id.split(':')[1] ?? '');
      }
    this.counts.rosterEntries = this.roster.size;
    // Everything but the chunks, in id order (a chain's events are in seq order: the seq is padded).
    const ranges = [{ endkey: 'blob:', inclusiveEnd: false }, { startkey: 'blob:\ufff0' }];
    for (const range of ranges) {
      for await (const page of pages(this.db, range, docs)) {
        for (const { doc } of page) if (doc) await this.document(doc);
      }
    }
    this.counts.chains = this.chains.size;
    await this.blobs();
  }

  private async document(doc: Doc): Promise<void> {
    const kind = doc._id.split(':')[0];
    if (kind === 'event') return this.event(doc);
    if (doc._conflicts && doc._conflicts.length > 0) {
      this.flag(
        'conflict',
        doc._id,
        `has ${doc._conflicts.length + 1} revisions (${[doc._rev, ...doc._conflicts].join(', ')}); ` +
          'an appliance document is written once, an institution document by one writer',
      );
    }
    if (kind === 'submission') {
      this.submission(doc);
      for (const other of await otherRevisions(this.db, doc)) this.submission(other, other._rev);
    } else if (kind === 'appliance-status') this.heartbeat(doc);
  }

  // ---- Receipt keys (C2) ----

  private receiptKey(doc: Doc): void {
    this.counts.receiptKeys++;
    const parts = doc._id.split(':');
    const applianceId = parts[1] ?? '';
    const wrong = (reason: string) => {
      this.flag('malformed', doc._id, reason);
      this.keys.set(applianceId, { ok: false, reason: `${doc._id} ${reason}` });
    };
    if (parts.length !== 2 || !isId(applianceId) || doc.applianceId !== applianceId)
      return wrong(`does not name the appliance in its id (applianceId ${String(doc.applianceId)})`);
    if (doc.type !== 'receipt-key') return wrong('is not of type "receipt-key"');
    if (doc.algorithm !== 'Ed25519') return wrong(`has algorithm ${String(doc.algorithm)}, not Ed25519`);
    if (!isIso(doc.createdAt)) this.flag('malformed', doc._id, 'createdAt is not an ISO 8601 time');
    if (doc.hallId !== this.hallId) {
      this.flag('other-hall', doc._id, `belongs to hall ${String(doc.hallId)}, not ${this.hallId}`);
    }
    const key = ed25519Key(doc.publicKey);
    if (!key.ok) return wrong(key.reason);
    this.keys.set(applianceId, { ok: true, key: key.key, publicKey: doc.publicKey as string });
  }

  // ---- Events and chains ----

  private async event(winner: Doc): Promise<void> {
    this.counts.events++;
    const id = winner._id;
    const parts = id.split(':');
    const [, examId, applianceId, seqText] = parts;
    if (parts.length !== 4 || !isId(examId) || !isId(applianceId) || !/^\d{10}$/.test(seqText ?? '')) {
      this.flag('malformed', id, 'is not event:<examId>:<applianceId>:<seq padded to 10>');
      return;
    }
    const seq = Number(seqText);
    const chainKey = `${examId}\u0000${applianceId}`;
    const chain = this.chains.get(chainKey);
    const expectedSeq = chain ? chain.lastSeq + 1 : 1;
    if (seq < expectedSeq) {
      this.flag('malformed', id, `comes after seq ${chain?.lastSeq ?? 0} in id order`);
      return;
    }
    if (seq > expectedSeq) {
      const gap = seq - 1 === expectedSeq ? `seq ${expectedSeq} is` : `seq ${expectedSeq} to ${seq - 1} are`;
      this.flag('chain-gap', id, `${gap} missing in the chain of exam ${examId} by appliance ${applianceId}`);
    }
    // The previous hash is known only right after the previous event (or at the chain's start).
    const prevHashes = seq === 1 ? [GENESIS] : seq === expectedSeq ? chain?.lastHashes : undefined;
    const versions = [winner, ...(await otherRevisions(this.db, winner))].map((doc) => {
      const computed = eventHashOf(doc);
      const prevOk = prevHashes === undefined || prevHashes.includes(doc.prevHash as string);
      return { doc, computed, hashOk: computed === doc.hash, prevOk };
    });
    // Of a fork's versions, the chain goes on with those that verify (the server's winner is
    // arbitrary): the next event tells which one it continues.
    const good = versions.filter((v) => v.hashOk && v.prevOk);
    const chosen = good[0] ?? (versions[0] as (typeof versions)[number]);
    const doc = chosen.doc;
    const rev = versions.length > 1 ? doc._rev : undefined;
    if (versions.length > 1) {
      const described = versions.map(
        (v) =>
          `${v.doc._rev ?? '?'} (${v.hashOk ? 'hash verifies' : 'hash does not verify'}, ` +
          `${v.prevOk ? 'continues the chain' : 'does not continue the chain'})`,
      );
      this.flag('chain-fork', id, `has ${versions.length} versions: ${described.join('; ')}`);
    }
    const wrong = eventFieldProblems(doc, examId, applianceId, seq);
    if (wrong.length > 0) this.flag('malformed', id, wrong.join('; '), rev);
    if (!chosen.hashOk)
      this.flag(
        'event-hash',
        id,
        `hash ${String(doc.hash)} is not the SHA-256 of the event (${chosen.computed}): it was changed after it was written`,
        rev,
      );
    if (!chosen.prevOk)
      this.flag(
        'event-prev-hash',
        id,
        seq === 1
          ? 'prevHash of the first event is not 64 zeros'
          : `prevHash ${String(doc.prevHash)} is not the hash of seq ${seq - 1} (${(prevHashes ?? []).join(' or ')}): that event or this one was changed`,
        rev,
      );
    const next = (good.length > 0 ? good : [chosen]).map((v) => v.doc.hash);
    this.chains.set(chainKey, { lastSeq: seq, lastHashes: next.filter((h) => typeof h === 'string') });
    const data = doc.data;
    if (isObject(data) && isHex64(data.sha256)) this.name(data.sha256, id, isWhole(data.size) ? data.size : undefined);
  }

  private name(sha256: string, by: string, size: number | undefined): void {
    const list = this.named.get(sha256);
    if (list) list.push({ by, size });
    else this.named.set(sha256, [{ by, size }]);
  }

  // ---- Submissions and receipts ----

  private submission(doc: Doc, rev?: string): void {
    if (rev === undefined) this.counts.submissions++;
    const id = doc._id;
    const parts = id.split(':');
    const five = parts.length === 5;
    const wrong: string[] = [];
    if (parts.length !== 4 && !five) wrong.push('is not submission:<examId>:<studentId>[:<applianceId>]:<n>');
    if (doc.type !== 'submission') wrong.push('type is not "submission"');
    if (!isId(doc.examId) || doc.examId !== parts[1]) wrong.push('examId does not match the id');
    if (!isId(doc.studentId) || doc.studentId !== parts[2]) wrong.push('studentId does not match the id');
    if (!isId(doc.applianceId) || (five && doc.applianceId !== parts[3]))
      wrong.push('applianceId does not match the id');
    if (!isWhole(doc.n) || doc.n < 1 || String(doc.n) !== parts[parts.length - 1])
      wrong.push('n does not match the id');
    if (!isHex64(doc.sha256)) wrong.push('sha256 is not 64 lower-case hex digits');
    if (!isWhole(doc.size)) wrong.push('size is not a whole number');
    if (doc.submissionType !== 'manual' && doc.submissionType !== 'automatic')
      wrong.push('submissionType is not manual or automatic');
    if (!isTime(doc.receivedAt)) wrong.push('receivedAt is not a time in epoch ms');
    if (typeof doc.late !== 'boolean') wrong.push('late is not true or false');
    if (wrong.length > 0) this.flag('malformed', id, wrong.join('; '), rev);
    if (isId(doc.examId) && !this.rosterExams.has(doc.examId)) this.noCentralRoster.add(doc.examId);
    else if (isId(doc.examId) && isId(doc.studentId) && !this.roster.has(`examinee:${doc.examId}:${doc.studentId}`)) {
      this.flag(
        'not-on-roster',
        id,
        `student ${doc.studentId} is on no roster of exam ${doc.examId} (no examinee:${doc.examId}:${doc.studentId})`,
        rev,
      );
    }
    if (isHex64(doc.sha256)) this.name(doc.sha256, id, isWhole(doc.size) ? doc.size : undefined);
    this.receipt(doc, rev);
  }

  private receipt(doc: Doc, rev: string | undefined): void {
    const id = doc._id;
    const receipt = doc.receipt;
    if (!isObject(receipt) || !isObject(receipt.payload)) {
      this.flag('receipt-payload', id, 'carries no receipt', rev);
      return;
    }
    const payload = receipt.payload;
    const differ: string[] = [];
    const fields = payload.format === 'receipt/v2' ? RECEIPT_V2_FIELDS : RECEIPT_V1_FIELDS;
    if (payload.format !== 'receipt/v1' && payload.format !== 'receipt/v2') differ.push('format');
    for (const k of Object.keys(payload)) if (!fields.includes(k)) differ.push(`${k} (not a receipt field)`);
    for (const k of ['applianceId', 'examId', 'studentId', 'n', 'sha256', 'size', 'submissionType'] as const) {
      if (payload[k] !== doc[k]) differ.push(k);
    }
    if (payload.submissionId !== id) differ.push('submissionId');
    if (!isTime(doc.receivedAt) || payload.receivedAt !== new Date(doc.receivedAt).toISOString())
      differ.push('receivedAt');
    if (
      payload.format === 'receipt/v2' &&
      (typeof payload.timing !== 'string' || (doc.timing !== undefined && payload.timing !== doc.timing))
    )
      differ.push('timing');
    if (payload.hallId !== this.hallId) differ.push(`hallId (${String(payload.hallId)}, not ${this.hallId})`);
    if (differ.length > 0)
      this.flag(
        'receipt-payload',
        id,
        `the receipt's payload does not match the submission: ${differ.join(', ')}`,
        rev,
      );

    const applianceId = typeof payload.applianceId === 'string' ? payload.applianceId : '';
    const trusted = this.keys.get(applianceId);
    if (!trusted || !trusted.ok) {
      this.flag(
        'receipt-key-missing',
        id,
        trusted
          ? `the receipt cannot be checked: ${trusted.reason}`
          : `the receipt cannot be checked: appliance ${applianceId || '?'} published no receipt-key:${applianceId || '?'}`,
        rev,
      );
      return;
    }
    const signed = signatureVerifies(payload, receipt.signature, trusted.key);
    if (receipt.publicKey !== trusted.publicKey) {
      this.flag(
        'receipt-other-key',
        id,
        `the receipt carries key ${String(receipt.publicKey)}, not the key receipt-key:${applianceId} publishes` +
          (signed ? '' : ', and its signature does not verify with the published key'),
        rev,
      );
    } else if (!signed) {
      this.flag('receipt-signature', id, `the signature does not verify with receipt-key:${applianceId}`, rev);
    } else if (rev === undefined) this.counts.receiptsVerified++;
  }

  // ---- Heartbeats (C3) ----

  private heartbeat(doc: Doc): void {
    this.counts.heartbeats++;
    const id = doc._id;
    const parts = id.split(':');
    const wrong: string[] = [];
    if (parts.length !== 2 || !isId(parts[1]) || doc.applianceId !== parts[1])
      wrong.push('applianceId does not match the id');
    if (doc.type !== 'appliance-status') wrong.push('type is not "appliance-status"');
    if (typeof doc.version !== 'string' || doc.version === '') wrong.push('no version');
    for (const k of ['at', 'startedAt'] as const) if (!isIso(doc[k])) wrong.push(`${k} is not an ISO 8601 time`);
    for (const k of ['lastContactAt', 'lastSuccessAt'] as const)
      if (doc[k] !== null && !isIso(doc[k])) wrong.push(`${k} is not an ISO 8601 time or null`);
    if (typeof doc.clockTrusted !== 'boolean') wrong.push('clockTrusted is not true or false');
    if (!HEARTBEAT_STATES.includes(doc.state as string)) wrong.push(`state ${String(doc.state)} is unknown`);
    const pending = doc.pending;
    if (pending !== null && !(isObject(pending) && isWhole(pending.docs) && isWhole(pending.bytes)))
      wrong.push('pending is not {docs, bytes} or null');
    if (!isWhole(doc.refused)) wrong.push('refused is not a whole number');
    if (wrong.length > 0) this.flag('malformed', id, wrong.join('; '));
    if (doc.hallId !== this.hallId)
      this.flag('other-hall', id, `belongs to hall ${String(doc.hallId)}, not ${this.hallId}`);
    if (isWhole(doc.refused) && doc.refused > 0) {
      this.flag(
        'refused-documents',
        id,
        `appliance ${String(doc.applianceId)} reported at ${String(doc.at)} that the central server refused ${doc.refused} of its documents: they are not here`,
      );
    }
  }

  // ---- Blobs ----

  private async blobs(): Promise<void> {
    const present = new Set<string>();
    for await (const page of pages(this.db, prefixRange('blob:'), { docs: false, pageSize: 2_000 })) {
      for (const { id } of page) {
        this.counts.chunks++;
        const [, sha256, index, ...rest] = id.split(':');
        if (!isHex64(sha256) || !/^(0|[1-9]\d*)$/.test(index ?? '') || rest.length > 0) {
          this.flag('malformed', id, 'is not blob:<sha256>:<index>');
          continue;
        }
        present.add(sha256);
      }
    }
    const all = [...new Set([...this.named.keys(), ...present])].sort();
    this.counts.blobs = all.length;
    // A few blobs at a time: each one reads one chunk's revisions at a time.
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < all.length; i = next++) await this.blob(all[i] as string);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  private async blob(sha256: string): Promise<void> {
    const result = await resolveBlob(this.db, sha256);
    for (const bad of result.badRevisions) {
      this.flag(
        'chunk-bad-revision',
        bad.id,
        `a revision of this chunk is not part of blob ${sha256}: ${bad.reason}`,
        bad.rev,
      );
    }
    const names = this.named.get(sha256) ?? [];
    const namedBy =
      names.length > 0
        ? ` (named by ${names
            .map((n) => n.by)
            .slice(0, 3)
            .join(', ')}${names.length > 3 ? ', ...' : ''})`
        : '';
    if (!result.ok) {
      this.flag(
        result.reason === 'mismatch' ? 'blob-mismatch' : 'blob-missing',
        chunkId(sha256, 0),
        `blob ${sha256}${namedBy} ${result.reason === 'mismatch' ? 'does not verify' : 'is not (completely) here'}: ${result.detail}`,
      );
      return;
    }
    this.counts.blobsVerified++;
    for (const n of names) {
      if (n.size !== undefined && n.size !== result.size)
        this.flag('blob-size', n.by, `names blob ${sha256} with ${n.size} bytes; it has ${result.size}`);
    }
  }
}

/** Ed25519 over the UTF-8 bytes of the payload's canonical JSON; a signature is 64 bytes in base64. */
function signatureVerifies(payload: Record<string, unknown>, signature: unknown, key: KeyObject): boolean {
  const bytes = Buffer.from(typeof signature === 'string' ? signature : '', 'base64');
  if (bytes.length !== 64) return false;
  try {
    return ed25519Verify(null, Buffer.from(canonicalJson(payload), 'utf8'), key, bytes);
  } catch {
    return false;
  }
}

function eventFieldProblems(doc: Doc, examId: string, applianceId: string, seq: number): string[] {
  const wrong: string[] = [];
  if (doc.type !== 'event') wrong.push('type is not "event"');
  if (doc.examId !== examId) wrong.push('examId does not match the id');
  if (doc.applianceId !== applianceId) wrong.push('applianceId does not match the id');
  if (doc.seq !== seq) wrong.push(`seq ${String(doc.seq)} does not match the id`);
  if (!isWhole(doc.schemaVersion) || doc.schemaVersion < 1) wrong.push('schemaVersion is not a whole number from 1');
  if (!isTime(doc.at)) wrong.push('at is not a time in epoch ms');
  if (typeof doc.kind !== 'string' || doc.kind === '') wrong.push('no kind');
  const actor = doc.actor;
  const actorOk =
    isObject(actor) &&
    ((actor.role === 'examinee' && isId(actor.studentId)) ||
      (actor.role === 'proctor' && typeof actor.username === 'string') ||
      actor.role === 'system');
  if (!actorOk) wrong.push('actor is not an examinee, a proctor or the system');
  if (doc.studentId !== undefined && !isId(doc.studentId)) wrong.push('studentId is not a student id');
  if (!isObject(doc.data)) wrong.push('data is not an object');
  if (!isHex64(doc.prevHash)) wrong.push('prevHash is not 64 lower-case hex digits');
  if (!isHex64(doc.hash)) wrong.push('hash is not 64 lower-case hex digits');
  return wrong;
}

/**
 * Verifies a hall's central database (see the top of this file); `hallId` is the hall it should
 * be (receipts, keys and heartbeats must name it). Throws only when the database cannot be read.
 */
export async function verifyHall(
  db: PouchDB.Database,
  hallId: string,
  options: { pageSize?: number } = {},
): Promise<VerifyReport> {
  const verifier = new HallVerifier(db, hallId, options.pageSize ?? 500);
  await verifier.run();
  const notes = [...verifier.noCentralRoster]
    .sort()
    .map(
      (examId) =>
        `exam ${examId} has no roster in the hall database (imported on a box, not published): roster membership not checked for it`,
    );
  return { hallId, ok: verifier.problems.length === 0, counts: verifier.counts, problems: verifier.problems, notes };
}

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The report in plain words: what was checked, then each problem on its own line. */
export function formatVerifyReport(report: VerifyReport, database: string): string {
  const c = report.counts;
  const lines = [
    `Verified ${database}: ${counted(c.events, 'event')} in ${counted(c.chains, 'chain')}, ` +
      `${counted(c.submissions, 'submission')} (${counted(c.receiptsVerified, 'receipt')} verified against ` +
      `${counted(c.receiptKeys, 'published key')}), ${counted(c.rosterEntries, 'roster entry', 'roster entries')}, ` +
      `${counted(c.blobs, 'blob')} (${c.blobsVerified} verified, ${counted(c.chunks, 'chunk document')}), ` +
      `${counted(c.heartbeats, 'heartbeat')}.`,
  ];
  for (const note of report.notes) lines.push(`Not checked: ${note}.`);
  if (report.ok) lines.push('All checks passed.');
  else {
    lines.push(`${counted(report.problems.length, 'problem')}:`);
    const width = Math.max(...report.problems.map((p) => p.code.length));
    for (const p of report.problems) {
      lines.push(`  ${p.code.padEnd(width)}  ${p.id}${p.rev === undefined ? '' : ` (${p.rev})`}: ${p.message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

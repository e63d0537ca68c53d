import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PouchDB from 'pouchdb';
import { checkCentralDb, openCentralDb } from '../central-link.js';
import { startCentralServer, type CentralServer } from '../../tests/support/central-server.js';
import { chainEvent, eventHash, GENESIS_HASH, type ExamEvent } from '../../domain/events.js';
import { hallDesignDoc, VALIDATE_DOC_UPDATE } from './validate-doc-update.js';
import { installDesign, setHallSecurity } from './institution.js';

type Validate = (newDoc: object, oldDoc: object | null, userCtx: object, secObj: object) => void;

/** The function as CouchDB's query server gets it: the installed text, evaluated on its own. */
const validate = runInNewContext(`(${VALIDATE_DOC_UPDATE})`) as Validate;

const A1 = 'box-a1';
const hallUser = { name: 'hall-h1', roles: [`appliance:${A1}`] };
const admin = { name: 'institution-admin', roles: ['_admin'] };
const RECEIVED_AT = Date.parse('2026-12-01T10:00:00.000Z');

type Doc = Record<string, unknown>;

/** A chained event as the appliance writes it (domain/events.ts), with `over` applied and the hash made again. */
const event = (over: Doc = {}, options: { rehash?: boolean; seq?: number } = {}): Doc => {
  const seq = options.seq ?? 1;
  const head = { seq: seq - 1, hash: seq === 1 ? GENESIS_HASH : 'c'.repeat(64) };
  const made = chainEvent(
    head,
    'exam-1',
    A1,
    RECEIVED_AT,
    { kind: 'integrity-event', actor: { role: 'examinee', studentId: 'S1' }, studentId: 'S1', data: { type: 'paste' } },
    1,
  ) as unknown as Doc;
  const doc = JSON.parse(JSON.stringify({ ...made, ...over })) as Doc;
  return options.rehash === false ? doc : { ...doc, hash: eventHash(doc as unknown as ExamEvent) };
};

const submission = (over: Doc = {}, id = `submission:exam-1:S1:${A1}:1`): Doc => {
  const doc: Doc = {
    _id: id,
    type: 'submission',
    schemaVersion: 1,
    examId: 'exam-1',
    studentId: 'S1',
    n: 1,
    applianceId: A1,
    sha256: 'b'.repeat(64),
    size: 1234,
    submissionType: 'manual',
    receivedAt: RECEIVED_AT,
    late: false,
    timing: 'on-time',
    score: { score: 3, maxScore: 14, answered: 3, total: 5 },
  };
  const payload = {
    format: 'receipt/v2',
    applianceId: A1,
    hallId: 'h1',
    examId: 'exam-1',
    studentId: 'S1',
    submissionId: id,
    n: 1,
    sha256: 'b'.repeat(64),
    size: 1234,
    submissionType: 'manual',
    receivedAt: new Date(RECEIVED_AT).toISOString(),
    timing: 'on-time',
  };
  return {
    ...doc,
    receipt: { payload, signature: `${'A'.repeat(86)}==`, publicKey: `${'B'.repeat(43)}=` },
    ...over,
  };
};
const withPayload = (over: Doc): Doc => {
  const s = submission();
  const receipt = s.receipt as { payload: Doc };
  return { ...s, receipt: { ...receipt, payload: { ...receipt.payload, ...over } } };
};

const sha = 'a'.repeat(64);
const chunk = (over: Doc = {}, bytes = 10): Doc => ({
  _id: `blob:${sha}:0`,
  type: 'blob-chunk',
  schemaVersion: 1,
  sha256: sha,
  index: 0,
  count: 1,
  size: 10,
  applianceId: A1,
  _attachments: {
    chunk: { content_type: 'application/octet-stream', data: Buffer.alloc(bytes, 7).toString('base64') },
  },
  ...over,
});
/** The second chunk of a blob of 512 KiB + 100 bytes, as CouchDB shows it (a stub with its length). */
const secondChunk = (length = 100): Doc => ({
  ...chunk(),
  _id: `blob:${sha}:1`,
  index: 1,
  count: 2,
  size: 512 * 1024 + 100,
  _attachments: { chunk: { content_type: 'application/octet-stream', stub: true, length, digest: 'md5-x' } },
});

const receiptKey = (over: Doc = {}): Doc => ({
  _id: `receipt-key:${A1}`,
  type: 'receipt-key',
  applianceId: A1,
  hallId: 'h1',
  algorithm: 'Ed25519',
  publicKey: `${'B'.repeat(43)}=`,
  createdAt: '2026-12-01T08:00:00.000Z',
  ...over,
});

const heartbeat = (over: Doc = {}): Doc => ({
  _id: `appliance-status:${A1}`,
  type: 'appliance-status',
  applianceId: A1,
  hallId: 'h1',
  version: '0.1.0',
  at: '2026-12-01T10:00:00.000Z',
  clockTrusted: true,
  state: 'idle',
  lastContactAt: '2026-12-01T10:00:00.000Z',
  lastSuccessAt: null,
  pending: { docs: 3, bytes: 4096 },
  refused: 0,
  startedAt: '2026-12-01T07:00:00.000Z',
  ...over,
});

/** The refusal's reason, or 'allowed'. */
function outcome(newDoc: object, oldDoc: object | null, userCtx: object = hallUser): string {
  try {
    validate(newDoc, oldDoc, userCtx, {});
    return 'allowed';
  } catch (err) {
    const e = err as { forbidden?: string; unauthorized?: string };
    if (e.forbidden !== undefined) return `forbidden: ${e.forbidden}`;
    throw err;
  }
}

describe('validate_doc_update as a function', () => {
  it('lets a box create its own appliance documents, also replicated as generation 1', () => {
    for (const doc of [
      event(),
      submission(),
      submission({}, 'submission:exam-1:S1:1'),
      chunk(),
      secondChunk(),
      receiptKey(),
      heartbeat(),
    ]) {
      expect(outcome(doc, null), String(doc._id)).toBe('allowed');
      expect(outcome({ ...doc, _rev: '1-0123456789abcdef0123456789abcdef' }, null), String(doc._id)).toBe('allowed');
    }
    // A chunk with the same id and other bytes: a new generation-1 branch (the stand-in passes the
    // current revision as oldDoc; CouchDB passes none).
    expect(outcome({ ...chunk(), _rev: '1-bbbb' }, { ...chunk(), _rev: '1-aaaa' })).toBe('allowed');
    // A clock a proctor set may give times that are not whole milliseconds; points may be fractions.
    expect(outcome(event({ at: RECEIVED_AT + 0.5 }), null)).toBe('allowed');
    expect(outcome(submission({ score: { score: 2.5, maxScore: 7.5, answered: 1, total: 2 } }), null)).toBe('allowed');
    // A generation-1 branch next to a deleted revision.
    expect(outcome({ ...event(), _rev: '1-abc' }, { ...event(), _rev: '2-def', _deleted: true })).toBe('allowed');
  });

  it('lets a box update its own heartbeat, at any generation', () => {
    expect(outcome({ ...heartbeat({ state: 'syncing' }), _rev: '7-abc' }, { ...heartbeat(), _rev: '7-abc' })).toBe(
      'allowed',
    );
    expect(outcome(heartbeat({ pending: null, lastSuccessAt: '2026-12-01T10:01:00Z' }), heartbeat())).toBe('allowed');
  });

  it('checks an event’s hash in ES5 exactly as the appliance computes it, for any text', () => {
    const samples = [
      '',
      'a',
      'é€😀',
      '"\\\n\t\u0001\u001f',
      '\u2028\u2029',
      '\ud800 alone',
      'x'.repeat(55),
      'y'.repeat(64),
    ];
    for (let n = 0; n < 130; n++) samples.push('ü'.repeat(n));
    for (const text of samples) {
      const doc = event({ kind: 'message-sent', data: { messageId: 'm1', audience: 'all', text, weight: 0.1 } });
      expect(outcome(doc, null), JSON.stringify(text)).toBe('allowed');
    }
  });

  it('lets an admin (the institution) write anything', () => {
    expect(outcome({ _id: 'exam:exam-1', type: 'exam' }, { _id: 'exam:exam-1' }, admin)).toBe('allowed');
    expect(outcome({ _id: 'examinee:exam-1:S1', type: 'examinee' }, null, admin)).toBe('allowed');
    expect(outcome({ ...event(), _deleted: true }, event(), admin)).toBe('allowed');
    expect(outcome({ ...event({ hash: 'f'.repeat(64) }, { rehash: false }), _rev: '9-abc' }, null, admin)).toBe(
      'allowed',
    );
  });

  it.each([
    // What a box may write at all.
    ['an exam', { _id: 'exam:exam-1', type: 'exam', applianceId: A1 }, null, /only write event:/],
    ['a roster entry', { _id: 'examinee:exam-1:S1', type: 'examinee', applianceId: A1 }, null, /only write/],
    ['an exam edit', { _id: 'exam:exam-1', type: 'exam' }, { _id: 'exam:exam-1' }, /only write/],
    ['an asset', { _id: 'asset:exam-1:logo.png', applianceId: A1 }, null, /only write/],
    ['a draft', { _id: 'draft:exam-1:S1', type: 'draft', applianceId: A1 }, null, /only write/],
    ['a design document', { _id: '_design/evil', validate_doc_update: 'function(){}' }, null, /only write/],
    ['a document of the wrong type', event({ type: 'submission' }), null, /must have type "event"/],
    ['another appliance’s event', event({ applianceId: 'box-b2' }), null, /may not write for appliance box-b2/],
    ['a submission with no appliance id', submission({ applianceId: undefined }), null, /no valid applianceId/],
    // Written once, generation 1.
    ['an update of an event', event({ seq: 2 }), event(), /immutable/],
    ['a deletion', { ...event(), _deleted: true }, event(), /may not delete/],
    ['a replicated event of generation 9', { ...event(), _rev: '9-abc' }, null, /only generation-1 revisions/],
    ['a replicated submission of generation 2', { ...submission(), _rev: '2-abc' }, null, /generation-1/],
    [
      'a recreation over a deleted event',
      { ...event(), _rev: '3-abc' },
      { ...event(), _deleted: true },
      /generation-1/,
    ],
    ['a revision of no generation', { ...chunk(), _rev: 'abc' }, null, /generation-1/],
    [
      'a second generation-1 branch of an event',
      { ...event(), _rev: '1-bbb' },
      { ...event(), _rev: '1-aaa' },
      /immutable/,
    ],
    ['an interactive edit of a chunk', { ...chunk(), _rev: '1-aaa' }, { ...chunk(), _rev: '1-aaa' }, /immutable/],
    ['an update of a receipt key', receiptKey({ publicKey: `${'C'.repeat(43)}=` }), receiptKey(), /immutable/],
    // Events: ids against fields, types, hash.
    [
      'an event whose id names another appliance',
      event({ _id: 'event:exam-1:box-b2:0000000001' }),
      null,
      /does not match its examId/,
    ],
    ['an event under another exam id', event({ examId: 'exam-2' }), null, /does not match its examId/],
    ['an event whose seq is not its id’s', event({ seq: 2 }), null, /does not match its seq/],
    ['an event with a seq as text', event({ seq: '1' }), null, /does not match its seq/],
    ['an event id with an unpadded seq', event({ _id: `event:exam-1:${A1}:1` }), null, /does not match its seq/],
    ['a forged event hash', event({ hash: 'f'.repeat(64) }, { rehash: false }), null, /hash is not the SHA-256/],
    [
      'an event changed after hashing',
      event({ data: { type: 'copy' } }, { rehash: false }),
      null,
      /hash is not the SHA-256/,
    ],
    ['a first event with a forged prevHash', event({ prevHash: 'e'.repeat(64) }), null, /prevHash must be 64 zeros/],
    ['an upper-case hash', event({ hash: 'F'.repeat(64) }, { rehash: false }), null, /hash must be 64 lower-case hex/],
    ['an event without prevHash', event({ prevHash: undefined }), null, /prevHash must be/],
    ['an event by an unknown actor', event({ actor: { role: 'admin' } }), null, /actor must be/],
    ['an event time as text', event({ at: '2026-12-01' }), null, /at must be/],
    ['an event with data as text', event({ data: 'x' }), null, /data must be an object/],
    ['an event with no schemaVersion', event({ schemaVersion: undefined }), null, /schemaVersion must be/],
    ['an event with an attachment', event({ _attachments: { x: { data: 'AA==' } } }), null, /only blob chunks carry/],
    // Submissions (both id forms of C1).
    ['a submission under another exam id', submission({ examId: 'exam-2' }), null, /does not match its examId/],
    [
      'a submission for another student',
      submission({ studentId: 'S2' }),
      null,
      /does not match its examId and studentId/,
    ],
    [
      'a submission whose n is not its id’s',
      submission({}, `submission:exam-1:S1:${A1}:2`),
      null,
      /does not match its n/,
    ],
    [
      'a legacy submission whose n is not its id’s',
      submission({}, 'submission:exam-1:S1:2'),
      null,
      /does not match its n/,
    ],
    [
      'a submission id naming another box',
      submission({}, 'submission:exam-1:S1:box-b2:1'),
      null,
      /does not match its applianceId/,
    ],
    ['a submission id of 6 parts', submission({}, `submission:exam-1:S1:${A1}:x:1`), null, /does not match/],
    ['a submission with a numeric sha256', submission({ sha256: 42 }), null, /sha256 must be 64/],
    ['a submission with a negative size', submission({ size: -1 }), null, /size must be/],
    ['a submission of an unknown type', submission({ submissionType: 'forced' }), null, /submissionType must be/],
    ['a submission with late as text', submission({ late: 'no' }), null, /late must be/],
    ['a submission without a receipt', submission({ receipt: undefined }), null, /receipt must be/],
    ['a receipt naming another SHA-256', withPayload({ sha256: 'c'.repeat(64) }), null, /receipt names another sha256/],
    [
      'a receipt for another submission',
      withPayload({ submissionId: 'submission:exam-1:S1:box-a1:2' }),
      null,
      /another submissionId/,
    ],
    [
      'a receipt with another time',
      withPayload({ receivedAt: '2026-12-01T10:00:01.000Z' }),
      null,
      /another receivedAt/,
    ],
    ['a receipt of another box', withPayload({ applianceId: 'box-b2' }), null, /another applianceId/],
    ['a receipt of another timing', withPayload({ timing: 'late' }), null, /another timing/],
    ['a receipt of an unknown format', withPayload({ format: 'receipt/v9' }), null, /receipt\/v1 or receipt\/v2/],
    [
      'a receipt with a short signature',
      submission({ receipt: { ...(submission().receipt as Doc), signature: 'AAAA' } }),
      null,
      /signature must be/,
    ],
    // Chunks.
    ['a chunk of another blob', chunk({ sha256: 'b'.repeat(64) }), null, /does not match its sha256 and index/],
    ['a chunk with its index as text', chunk({ index: '0' }), null, /does not match its sha256 and index/],
    ['a chunk id with a padded index', chunk({ _id: `blob:${sha}:00` }), null, /does not match its sha256 and index/],
    ['a chunk beyond its count', chunk({ _id: `blob:${sha}:1`, index: 1 }), null, /index must be below count/],
    ['a chunk whose count is not its size’s', chunk({ count: 2 }), null, /count must be/],
    ['a chunk without its attachment', chunk({ _attachments: undefined }), null, /no attachment "chunk"/],
    [
      'a chunk with another attachment',
      chunk({ _attachments: { chunk: { data: 'AA==' }, extra: { data: 'AA==' } } }),
      null,
      /other than "chunk"/,
    ],
    ['a chunk with too few bytes', chunk({}, 5), null, /holds 5 bytes, not 10/],
    ['a chunk stub of the wrong length', secondChunk(99), null, /holds 99 bytes, not 100/],
    [
      'a chunk with an upper-case sha256',
      chunk({ _id: `blob:${'A'.repeat(64)}:0`, sha256: 'A'.repeat(64) }),
      null,
      /sha256 must be 64/,
    ],
    // Receipt keys (C2).
    [
      'a receipt key for another box',
      receiptKey({ _id: 'receipt-key:box-b2' }),
      null,
      /does not match its applianceId/,
    ],
    ['a receipt key of another algorithm', receiptKey({ algorithm: 'RSA' }), null, /algorithm must be Ed25519/],
    ['a receipt key that is not 32 bytes', receiptKey({ publicKey: 'AAAA' }), null, /publicKey must be/],
    ['a receipt key without a time', receiptKey({ createdAt: 'yesterday' }), null, /createdAt must be/],
    // Heartbeats (C3).
    [
      'a heartbeat for another box',
      heartbeat({ _id: 'appliance-status:box-b2', applianceId: 'box-b2' }),
      null,
      /may not write for appliance box-b2/,
    ],
    [
      'a heartbeat naming another box',
      heartbeat({ _id: 'appliance-status:box-b2' }),
      null,
      /does not match its applianceId/,
    ],
    [
      'an update of another box’s heartbeat',
      heartbeat({ _id: 'appliance-status:box-b2' }),
      heartbeat({ _id: 'appliance-status:box-b2', applianceId: 'box-b2' }),
      /does not match/,
    ],
    ['a heartbeat deletion', { ...heartbeat(), _deleted: true }, heartbeat(), /may not delete/],
    ['a heartbeat in an unknown state', heartbeat({ state: 'happy' }), null, /state must be/],
    ['a heartbeat with negative pending', heartbeat({ pending: { docs: -1, bytes: 0 } }), null, /pending must be/],
    ['a heartbeat without refused', heartbeat({ refused: undefined }), null, /refused must be/],
    ['a heartbeat with clockTrusted as text', heartbeat({ clockTrusted: 'yes' }), null, /clockTrusted must be/],
    [
      'a heartbeat carrying an attachment',
      heartbeat({ _attachments: { x: { data: 'AA==' } } }),
      null,
      /only blob chunks carry/,
    ],
  ])('refuses %s from a box', (_what, newDoc, oldDoc, reason) => {
    expect(outcome(newDoc, oldDoc)).toMatch(reason);
  });

  it('refuses a user without the appliance role, and an anonymous one', () => {
    expect(outcome(event(), null, { name: 'hall-h2', roles: ['appliance:box-b2'] })).toMatch(
      /needs role appliance:box-a1/,
    );
    expect(outcome(event(), null, { name: null, roles: [] })).toMatch(/may not write/);
    expect(outcome(heartbeat(), heartbeat(), { name: 'box-b2', roles: ['appliance:box-b2'] })).toMatch(
      /needs role appliance:box-a1/,
    );
  });

  it('is installed as design version 2', () => {
    expect(hallDesignDoc('h1')).toMatchObject({ _id: '_design/hall', version: 2, hallId: 'h1' });
  });
});

describe('validate_doc_update through the stand-in server (express-pouchdb enforces it)', () => {
  let server: CentralServer;
  let asHall: PouchDB.Database;
  let asAdmin: PouchDB.Database;

  beforeAll(async () => {
    server = await startCentralServer();
    const user = server.addUser('hall-h1', 'hall-pass', [`appliance:${A1}`]);
    asAdmin = openCentralDb(server.link(server.admin), 'h1', { create: true });
    expect(await installDesign(asAdmin, 'h1')).toBe('created');
    expect(await installDesign(asAdmin, 'h1')).toBe('unchanged');
    asHall = openCentralDb(server.link(user), 'h1');
  });
  afterAll(async () => {
    await server.close();
  });

  it('installs the design document as written here', async () => {
    const doc = await asAdmin.get('_design/hall');
    expect(doc.validate_doc_update).toBe(hallDesignDoc('h1').validate_doc_update);
  });

  /** The refusal of a write as the box's user, or undefined when it was taken. */
  const refused = async (doc: object, as = asHall) =>
    as.put(doc as PouchDB.Doc).then(
      () => undefined,
      (e: unknown) => e as { status: number; name: string; message: string },
    );
  /** A replicated write (new_edits: false): [] when taken, else the error row. */
  const replicated = (doc: object, as = asHall) => as.bulkDocs([doc as PouchDB.Doc], { new_edits: false });

  it('takes the hall’s own documents, also replicated ones (new_edits: false)', async () => {
    expect(await asHall.put(event() as PouchDB.Doc)).toMatchObject({ ok: true });
    expect(await replicated({ ...submission(), _rev: '1-abc' })).toEqual([]);
    expect((await asAdmin.get(`submission:exam-1:S1:${A1}:1`))._rev).toBe('1-abc');
    expect(await replicated({ ...submission({}, 'submission:exam-1:S1:1'), _rev: '1-abc' })).toEqual([]);
    expect(await asHall.put(receiptKey() as PouchDB.Doc)).toMatchObject({ ok: true });
  });

  it('refuses exams, rosters, edits and other appliances’ documents with 403', async () => {
    expect(await refused({ _id: 'exam:exam-1', type: 'exam' })).toMatchObject({ name: 'forbidden' });
    expect(await refused({ _id: 'examinee:exam-1:S9', type: 'examinee' })).toMatchObject({ name: 'forbidden' });
    const existing = await asHall.get(String(event()._id));
    expect(await refused({ ...existing, seq: 99 })).toMatchObject({
      name: 'forbidden',
      message: expect.stringMatching(/immutable/),
    });
    expect(await refused(event({ _id: 'event:exam-1:box-b2:0000000001', applianceId: 'box-b2' }))).toMatchObject({
      name: 'forbidden',
    });
    // Replicated writes are checked too: a denied document comes back as an error row.
    expect((await replicated({ _id: 'exam:exam-2', _rev: '1-abc', type: 'exam' }))[0]).toMatchObject({
      id: 'exam:exam-2',
      error: 'forbidden',
    });
    // The institution (admin) may publish.
    expect(await asAdmin.put({ _id: 'exam:exam-1', type: 'exam' })).toMatchObject({ ok: true });
  });

  it('refuses forged and later-generation documents, replicated or not', async () => {
    const forged = [
      event({ hash: 'f'.repeat(64) }, { rehash: false, seq: 2 }),
      event({ seq: 3 }, { seq: 2 }),
      submission({ n: 2 }, `submission:exam-1:S2:${A1}:1`),
      withPayload({ sha256: 'c'.repeat(64) }),
      chunk({ count: 3 }),
      heartbeat({ _id: 'appliance-status:box-b2' }),
    ];
    for (const doc of forged) {
      expect(await refused(doc), String(doc._id)).toMatchObject({ status: 403, name: 'forbidden' });
      expect((await replicated({ ...doc, _rev: '1-abc' }))[0], String(doc._id)).toMatchObject({ error: 'forbidden' });
    }
    // A new branch of a later generation, for a new id and for one that is there.
    expect((await replicated({ ...submission({}, `submission:exam-1:S3:${A1}:1`), _rev: '9-abc' }))[0]).toMatchObject({
      error: 'forbidden',
      reason: expect.stringMatching(/generation-1/),
    });
    expect((await replicated({ ...submission(), _rev: '9-abc' }))[0]).toMatchObject({ error: 'forbidden' });
    expect((await asAdmin.get(`submission:exam-1:S1:${A1}:1`))._rev).toBe('1-abc');
  });

  it('keeps a wrong chunk and the right one side by side (the right one is not lost)', async () => {
    const id = `blob:${sha}:0`;
    expect(await replicated({ ...chunk({}, 10), _rev: '1-aaaa' })).toEqual([]);
    const right = chunk();
    (right._attachments as { chunk: { data: string } }).chunk.data = Buffer.alloc(10, 9).toString('base64');
    expect(await replicated({ ...right, _rev: '1-bbbb' })).toEqual([]);
    const doc = await asAdmin.get(id, { conflicts: true });
    expect([doc._rev, ...((doc._conflicts as string[] | undefined) ?? [])].sort()).toEqual(['1-aaaa', '1-bbbb']);
    // Neither may be edited.
    expect(await refused({ ...(await asHall.get(id)), size: 11 })).toMatchObject({ name: 'forbidden' });
  });

  it('lets a box create and update only its own heartbeat', async () => {
    const first = await asHall.put(heartbeat() as PouchDB.Doc);
    const second = await asHall.put({ ...heartbeat({ state: 'syncing' }), _rev: first.rev } as PouchDB.Doc);
    expect(second.rev).toMatch(/^2-/);
    const other = openCentralDb(server.link(server.addUser('box-b2', 'b2-pass', ['appliance:box-b2'])), 'h1');
    expect(await refused({ ...heartbeat({ state: 'error' }), _rev: second.rev }, other)).toMatchObject({
      name: 'forbidden',
      message: expect.stringMatching(/needs role appliance:box-a1/),
    });
    const theirs = heartbeat({ _id: 'appliance-status:box-b2', applianceId: 'box-b2' });
    expect(await refused(theirs)).toMatchObject({ name: 'forbidden' });
    expect(await other.put(theirs as PouchDB.Doc)).toMatchObject({ ok: true });
    expect(await refused({ ...(await asHall.get(heartbeat()._id as string)), _deleted: true })).toMatchObject({
      name: 'forbidden',
      message: expect.stringMatching(/may not delete/),
    });
    expect((await asAdmin.get(heartbeat()._id as string)).state).toBe('syncing');
  });

  it('refuses wrong credentials with 401', async () => {
    const wrong = openCentralDb(server.link({ username: 'hall-h1', password: 'nope' }), 'h1');
    await expect(checkCentralDb(wrong)).rejects.toMatchObject({ status: 401 });
  });

  it('keeps other users out once the security object names the hall’s user (the stand-in enforces it too)', async () => {
    expect(await setHallSecurity(server.link(server.admin), 'h1', ['hall-h1'])).toBe(true);
    const other = openCentralDb(server.link(server.addUser('hall-h2', 'other-pass', [`appliance:${A1}`])), 'h1');
    const id = String(event()._id);
    await expect(other.get(id)).rejects.toMatchObject({ status: 401 });
    expect(await asHall.get(id)).toMatchObject({ _id: id });
  });
});

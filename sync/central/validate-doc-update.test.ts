import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PouchDB from 'pouchdb';
import { checkCentralDb, openCentralDb } from '../central-link.js';
import { startCentralServer, type CentralServer } from '../../tests/support/central-server.js';
import { hallDesignDoc, VALIDATE_DOC_UPDATE } from './validate-doc-update.js';
import { installDesign, setHallSecurity } from './institution.js';

type Validate = (newDoc: object, oldDoc: object | null, userCtx: object, secObj: object) => void;

/** The function as CouchDB's query server gets it: the installed text, evaluated on its own. */
const validate = runInNewContext(`(${VALIDATE_DOC_UPDATE})`) as Validate;

const A1 = 'box-a1';
const hallUser = { name: 'hall-h1', roles: [`appliance:${A1}`] };
const admin = { name: 'institution-admin', roles: ['_admin'] };

const event = (over: object = {}) => ({
  _id: `event:exam-1:${A1}:0000000001`,
  type: 'event',
  examId: 'exam-1',
  applianceId: A1,
  seq: 1,
  ...over,
});
const submission = (over: object = {}) => ({
  _id: 'submission:exam-1:S1:1',
  type: 'submission',
  examId: 'exam-1',
  studentId: 'S1',
  applianceId: A1,
  ...over,
});
const sha = 'a'.repeat(64);
const chunk = (over: object = {}) => ({
  _id: `blob:${sha}:0`,
  type: 'blob-chunk',
  sha256: sha,
  index: 0,
  count: 1,
  applianceId: A1,
  ...over,
});

/** The refusal's reason, or 'allowed'. */
function outcome(newDoc: object, oldDoc: object | null, userCtx: object): string {
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
  it('lets a hall create its own appliance documents', () => {
    expect(outcome(event(), null, hallUser)).toBe('allowed');
    expect(outcome(submission(), null, hallUser)).toBe('allowed');
    expect(outcome(chunk(), null, hallUser)).toBe('allowed');
    // A deleted document may be recreated (CouchDB passes the deleted one as oldDoc).
    expect(outcome(event(), { ...event(), _deleted: true }, hallUser)).toBe('allowed');
  });

  it('lets an admin (the institution) write anything', () => {
    expect(outcome({ _id: 'exam:exam-1', type: 'exam' }, { _id: 'exam:exam-1' }, admin)).toBe('allowed');
    expect(outcome({ _id: 'examinee:exam-1:S1', type: 'examinee' }, null, admin)).toBe('allowed');
    expect(outcome({ ...event(), _deleted: true }, event(), admin)).toBe('allowed');
  });

  it.each([
    ['an exam', { _id: 'exam:exam-1', type: 'exam', applianceId: A1 }, null, /only create event/],
    ['a roster entry', { _id: 'examinee:exam-1:S1', type: 'examinee', applianceId: A1 }, null, /only create/],
    ['an exam edit', { _id: 'exam:exam-1', type: 'exam' }, { _id: 'exam:exam-1' }, /immutable|only create/],
    ['an asset', { _id: 'asset:exam-1:logo.png', applianceId: A1 }, null, /only create/],
    ['a draft', { _id: 'draft:exam-1:S1', type: 'draft', applianceId: A1 }, null, /only create/],
    ['a design document', { _id: '_design/evil', validate_doc_update: 'function(){}' }, null, /only create/],
    ['an update of an event', event({ seq: 2 }), event(), /immutable/],
    ['a deletion', { ...event(), _deleted: true }, event(), /may not delete/],
    ['another appliance’s event', event({ applianceId: 'box-b2' }), null, /may not write for appliance box-b2/],
    [
      'an event whose id names another appliance',
      event({ _id: 'event:exam-1:box-b2:0000000001' }),
      null,
      /does not match/,
    ],
    ['a submission with no appliance id', submission({ applianceId: undefined }), null, /carries no applianceId/],
    ['a submission under another exam id', submission({ examId: 'exam-2' }), null, /does not match/],
    ['a chunk of another blob', chunk({ sha256: 'b'.repeat(64) }), null, /does not match/],
    ['a document of the wrong type', event({ type: 'submission' }), null, /must have type "event"/],
  ])('refuses %s from a hall', (_what, newDoc, oldDoc, reason) => {
    expect(outcome(newDoc, oldDoc, hallUser)).toMatch(reason);
  });

  it('refuses a user without the appliance role, and an anonymous one', () => {
    expect(outcome(event(), null, { name: 'hall-h2', roles: ['appliance:box-b2'] })).toMatch(
      /needs role appliance:box-a1/,
    );
    expect(outcome(event(), null, { name: null, roles: [] })).toMatch(/may not write/);
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

  it('takes the hall’s own documents, also replicated ones (new_edits: false)', async () => {
    expect(await asHall.put(event() as PouchDB.Doc)).toMatchObject({ ok: true });
    const results = await asHall.bulkDocs([{ ...submission(), _rev: '1-abc' } as PouchDB.Doc], { new_edits: false });
    expect(results).toEqual([]);
    expect((await asAdmin.get('submission:exam-1:S1:1'))._rev).toBe('1-abc');
  });

  it('refuses exams, rosters, edits and other appliances’ documents with 403', async () => {
    const refused = async (doc: object) => {
      const err = await asHall.put(doc as PouchDB.Doc).then(
        () => undefined,
        (e: unknown) => e as { status: number; name: string; message: string },
      );
      return err;
    };
    expect(await refused({ _id: 'exam:exam-1', type: 'exam' })).toMatchObject({ name: 'forbidden' });
    expect(await refused({ _id: 'examinee:exam-1:S9', type: 'examinee' })).toMatchObject({ name: 'forbidden' });
    const existing = await asHall.get(event()._id);
    expect(await refused({ ...existing, seq: 99 })).toMatchObject({
      name: 'forbidden',
      message: expect.stringMatching(/immutable/),
    });
    expect(await refused(event({ _id: 'event:exam-1:box-b2:0000000001', applianceId: 'box-b2' }))).toMatchObject({
      name: 'forbidden',
    });
    // Replicated writes are checked too: a denied document comes back as an error row.
    const rows = await asHall.bulkDocs([{ _id: 'exam:exam-2', _rev: '1-abc', type: 'exam' }], { new_edits: false });
    expect(rows[0]).toMatchObject({ id: 'exam:exam-2', error: 'forbidden' });
    // The institution (admin) may publish.
    expect(await asAdmin.put({ _id: 'exam:exam-1', type: 'exam' })).toMatchObject({ ok: true });
  });

  it('refuses wrong credentials with 401', async () => {
    const wrong = openCentralDb(server.link({ username: 'hall-h1', password: 'nope' }), 'h1');
    await expect(checkCentralDb(wrong)).rejects.toMatchObject({ status: 401 });
  });

  it('keeps other users out once the security object names the hall’s user (the stand-in enforces it too)', async () => {
    expect(await setHallSecurity(server.link(server.admin), 'h1', ['hall-h1'])).toBe(true);
    const other = openCentralDb(server.link(server.addUser('hall-h2', 'other-pass', [`appliance:${A1}`])), 'h1');
    await expect(other.get(event()._id)).rejects.toMatchObject({ status: 401 });
    expect(await asHall.get(event()._id)).toMatchObject({ _id: event()._id });
  });
});

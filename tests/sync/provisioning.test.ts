/**
 * `npm run sync -- add-hall | add-appliance | remove-appliance` against a real pouchdb-server
 * 4.2.0 process (the local central server of `npm run central`, on a free 127.0.0.1 port with a
 * temp data folder): real `_users` with password hashing, real `_session` (basic auth and
 * cookies), the security object and validate_doc_update as pouchdb-server enforces them. What a
 * box's own user may and may not do, revocation, and bad input of every kind refused with
 * nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainEvent, GENESIS_HASH } from '../../domain/events.js';
import { runSyncCli } from '../../sync/cli.js';
import { hallDesignDoc } from '../../sync/central/validate-doc-update.js';
import { freePort, startLocalCentral, type LocalCentral } from '../../sync/central/local-server.js';
import { makeTempDir, removeTempDir } from '../support/appliance-process.js';

const ADMIN = { name: 'institution-admin', password: 'admin-Secret-4821-xyz' };
const BOX = 'box-3f2a9c01d4';
const OTHER_BOX = 'box-99aa77bb55';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

describe('provisioning halls and boxes on pouchdb-server', () => {
  let central: LocalCentral;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await makeTempDir('provisioning-');
    central = await startLocalCentral({ dir, admin: ADMIN });
    env = { CENTRAL_URL: central.url, CENTRAL_USER: ADMIN.name, CENTRAL_PASSWORD: ADMIN.password };
  });
  afterAll(async () => {
    await central?.close();
    await removeTempDir(dir);
  });

  async function run(args: string[], runEnv: Record<string, string> = env, stdin = '') {
    let out = '';
    let err = '';
    const code = await runSyncCli(args, runEnv, {
      out: (t) => (out += t),
      err: (t) => (err += t),
      readStdin: async () => stdin,
    });
    return { code, out, err };
  }

  /** One request to the server, as `user` (name, password), or anonymous. */
  async function couch(
    method: string,
    path: string,
    user?: { name: string; password: string },
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const res = await fetch(`${central.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(user ? { authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      headers: res.headers,
    };
  }
  const asAdmin = { name: ADMIN.name, password: ADMIN.password };

  /** The lines add-appliance printed for the box's environment. */
  function envLines(out: string): Record<string, string> {
    return Object.fromEntries(
      out
        .split('\n')
        .filter((l) => /^PROCTOR_[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  /** A box's first event, made as the appliance makes it (hash chain from the genesis hash). */
  const firstEvent = (applianceId: string) =>
    chainEvent(
      { seq: 0, hash: GENESIS_HASH },
      'exam-1',
      applianceId,
      Date.parse('2026-12-01T09:00:00Z'),
      {
        kind: 'examinee-signed-in',
        actor: { role: 'examinee', studentId: 'S1' },
        studentId: 'S1',
        data: { deviceId: 'device-S1-0123456789', sessionNo: 1 },
      },
      1,
    );

  /** What the server holds that provisioning could change: databases, users, security objects. */
  async function snapshot(): Promise<unknown> {
    const dbs = (await couch('GET', '/_all_dbs', asAdmin)).body as unknown as string[];
    const users = await couch('GET', '/_users/_all_docs', asAdmin);
    expect(users.status).toBe(200);
    expect(dbs).toContain('hall-a101');
    const security: Record<string, unknown> = {};
    for (const db of dbs)
      if (db.startsWith('hall-')) security[db] = (await couch('GET', `/${db}/_security`, asAdmin)).body;
    return { dbs, users: users.body.rows, security };
  }

  it('add-hall creates the database, installs _design/hall and admits the role hall:<id>; again, changes nothing', async () => {
    const r = await run(['add-hall', '--hall', 'a101']);
    expect(r, r.err).toMatchObject({ code: 0 });
    expect(r.out).toContain('hall-a101 on 127.0.0.1');
    expect(r.out).toContain(
      'database created; design document created; portal views created; security object set (members: role hall:a101)',
    );
    expect((await couch('GET', '/hall-a101', asAdmin)).status).toBe(200);
    const design = await couch('GET', '/hall-a101/_design/hall', asAdmin);
    expect(design.body.validate_doc_update).toBe(hallDesignDoc('a101').validate_doc_update);
    expect((await couch('GET', '/hall-a101/_design/portal', asAdmin)).status).toBe(200);
    expect((await couch('GET', '/hall-a101/_security', asAdmin)).body).toEqual({
      admins: { names: [], roles: [] },
      members: { names: [], roles: ['hall:a101'] },
    });
    // pouchdb-server opens a database to everyone until it has members; now it has.
    expect((await couch('GET', '/hall-a101')).status).toBe(401);

    const again = await run(['add-hall', '--hall', 'a101']);
    expect(again).toMatchObject({ code: 0 });
    expect(again.out).toContain(
      'database existed; design document unchanged; portal views unchanged; security object unchanged',
    );
  });

  it('add-hall on a hall set up by install-design keeps its member names and adds the role', async () => {
    expect((await run(['install-design', '--hall', 'legacy'])).code).toBe(0);
    const r = await run(['add-hall', '--hall', 'legacy']);
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('security object updated') });
    expect((await couch('GET', '/hall-legacy/_security', asAdmin)).body).toMatchObject({
      members: { names: ['hall-legacy'], roles: ['hall:legacy'] },
    });
  });

  it('gives each box its own user: it writes its own documents, not another box’s or hall’s; revoked, it gets 401', async () => {
    expect((await run(['add-hall', '--hall', 'b202'])).code).toBe(0);
    const added = await run(['add-appliance', '--hall', 'a101', '--appliance', BOX]);
    expect(added, added.err).toMatchObject({ code: 0 });
    const lines = envLines(added.out);
    expect(lines).toEqual({
      PROCTOR_HALL_ID: 'a101',
      PROCTOR_SYNC_URL: central.url,
      PROCTOR_SYNC_USER: `appliance-${BOX}`,
      PROCTOR_SYNC_PASSWORD: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
    });
    const box = { name: lines.PROCTOR_SYNC_USER!, password: lines.PROCTOR_SYNC_PASSWORD! };

    // The user as stored: roles, hashed password (no plain text kept), what it is for.
    const user = await couch('GET', `/_users/org.couchdb.user:${box.name}`, asAdmin);
    expect(user.body).toMatchObject({
      name: box.name,
      type: 'user',
      roles: [`appliance:${BOX}`, 'hall:a101'],
      applianceId: BOX,
      hallId: 'a101',
      password_scheme: 'pbkdf2',
      derived_key: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(user.body).not.toHaveProperty('password');
    expect(JSON.stringify(user.body)).not.toContain(box.password);

    // Basic auth and a cookie session, as CouchDB's _session answers them.
    expect((await couch('GET', '/_session', box)).body).toMatchObject({
      userCtx: { name: box.name, roles: [`appliance:${BOX}`, 'hall:a101'] },
    });
    const login = await fetch(`${central.url}/_session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: box.name, password: box.password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^AuthSession=/);
    expect((await couch('GET', '/_session', undefined, undefined, { cookie })).body).toMatchObject({
      userCtx: { name: box.name },
    });

    // Its own event: accepted, as written and as replicated.
    const own = firstEvent(BOX);
    expect((await couch('PUT', `/hall-a101/${encodeURIComponent(own._id)}`, box, own)).status).toBe(201);
    // Another box's: refused by validate_doc_update, by PUT and in a replicated _bulk_docs.
    const other = firstEvent(OTHER_BOX);
    const refused = await couch('PUT', `/hall-a101/${encodeURIComponent(other._id)}`, box, other);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      error: 'forbidden',
      reason: expect.stringContaining(`appliance:${OTHER_BOX}`),
    });
    const replicated = await couch('POST', '/hall-a101/_bulk_docs', box, {
      new_edits: false,
      docs: [{ ...other, _rev: '1-0123456789abcdef0123456789abcdef' }],
    });
    expect(replicated.body).toEqual([expect.objectContaining({ id: other._id, error: 'forbidden' })]);
    expect((await couch('GET', `/hall-a101/${encodeURIComponent(other._id)}`, asAdmin)).status).toBe(404);
    // Another hall's database: not a member (pouchdb-server answers 401 where CouchDB 3 says 403).
    expect((await couch('GET', '/hall-b202', box)).status).toBe(401);
    expect((await couch('GET', '/hall-b202/_all_docs', box)).status).toBe(401);
    expect((await couch('PUT', `/hall-b202/${encodeURIComponent(own._id)}`, box, own)).status).toBe(401);

    const removed = await run(['remove-appliance', '--hall', 'a101', '--appliance', BOX]);
    expect(removed, removed.err).toMatchObject({ code: 0, out: expect.stringContaining(`user ${box.name} deleted`) });
    expect((await couch('GET', '/_session', box)).status).toBe(401);
    expect((await couch('GET', '/hall-a101', box)).status).toBe(401);
    expect((await couch('GET', '/_session', undefined, undefined, { cookie })).body).toMatchObject({
      userCtx: { name: null },
    });
    // What it pushed stays.
    expect((await couch('GET', `/hall-a101/${encodeURIComponent(own._id)}`, asAdmin)).body).toMatchObject({
      _id: own._id,
      hash: own.hash,
    });
  });

  it('refuses an existing box unless --reset-password, which replaces its password; takes one from stdin unprinted', async () => {
    const first = await run(['add-appliance', '--hall', 'a101', '--appliance', 'box-reset']);
    expect(first.code).toBe(0);
    const oldPassword = envLines(first.out).PROCTOR_SYNC_PASSWORD!;
    const before = await snapshot();
    const again = await run(['add-appliance', '--hall', 'a101', '--appliance', 'box-reset']);
    expect(again).toMatchObject({ code: 1, out: '', err: expect.stringContaining('already has its user') });
    expect(await snapshot()).toEqual(before);

    const reset = await run(['add-appliance', '--hall', 'a101', '--appliance', 'box-reset', '--reset-password']);
    expect(reset).toMatchObject({ code: 0, out: expect.stringContaining('given a new password') });
    const newPassword = envLines(reset.out).PROCTOR_SYNC_PASSWORD!;
    expect(newPassword).not.toBe(oldPassword);
    expect((await couch('GET', '/_session', { name: 'appliance-box-reset', password: oldPassword })).status).toBe(401);
    expect((await couch('GET', '/hall-a101', { name: 'appliance-box-reset', password: newPassword })).status).toBe(200);

    const chosen = 'a-box-password-from-stdin-77';
    // The admin's credentials in the URL, the box's password on stdin.
    const adminUrl = `http://${ADMIN.name}:${ADMIN.password}@${new URL(central.url).host}`;
    const fromStdin = await run(
      ['add-appliance', '--hall', 'a101', '--appliance', 'box-stdin', '--password-stdin', '--url', adminUrl],
      {},
      `${chosen}\n`,
    );
    expect(fromStdin.out).not.toContain(ADMIN.password);
    expect(fromStdin, fromStdin.err).toMatchObject({ code: 0 });
    expect(fromStdin.out).not.toContain(chosen);
    expect(fromStdin.out).toContain('PROCTOR_SYNC_USER=appliance-box-stdin');
    expect((await couch('GET', '/hall-a101', { name: 'appliance-box-stdin', password: chosen })).status).toBe(200);

    // --box-url: the address the box uses, when the admin's is another.
    const other = await run([
      'add-appliance',
      '--hall',
      'a101',
      '--appliance',
      'box-far',
      '--box-url',
      'https://couch.example.edu:6984/',
    ]);
    expect(envLines(other.out).PROCTOR_SYNC_URL).toBe('https://couch.example.edu:6984');
  });

  it('refuses bad input to every command with a clear message and a non-zero exit, and changes nothing', async () => {
    expect((await run(['add-appliance', '--hall', 'a101', '--appliance', 'box-kept'])).code).toBe(0);
    // Someone's account that merely has a box-like name: never removed.
    expect(
      (
        await couch('PUT', '/_users/org.couchdb.user:appliance-desk', asAdmin, {
          name: 'appliance-desk',
          type: 'user',
          roles: [],
          password: 'desk-password-123456',
        })
      ).status,
    ).toBe(201);
    const downUrl = `http://127.0.0.1:${await freePort()}`;
    const wrong = { ...env, CENTRAL_PASSWORD: 'wrong-password-5150' };
    const boxLines = envLines((await run(['add-appliance', '--hall', 'a101', '--appliance', 'box-nonadmin'])).out);
    const asBox = {
      ...env,
      CENTRAL_USER: boxLines.PROCTOR_SYNC_USER!,
      CENTRAL_PASSWORD: boxLines.PROCTOR_SYNC_PASSWORD!,
    };
    const before = await snapshot();

    const cases: [string[], Record<string, string>, string, number, RegExp][] = [
      [['add-hall'], env, '', 2, /--hall <id> is required/],
      [['add-hall', '--hall', 'A101'], env, '', 2, /lower-case letters, digits and - only/],
      [['add-hall', '--hall', '../_users'], env, '', 2, /lower-case letters/],
      [['add-hall', '--hall', 'c303', '--appliance', 'x'], env, '', 2, /add-hall takes no --appliance/],
      [['add-hall', '--hall', 'c303', '--frobnicate'], env, '', 2, /unknown option --frobnicate/],
      [['add-hall', '--hall', 'c303', 'extra'], env, '', 2, /unexpected argument "extra"/],
      [['add-hall', '--hall', 'c303'], { CENTRAL_USER: ADMIN.name }, '', 2, /CENTRAL_URL/],
      [['add-hall', '--hall', 'c303'], wrong, '', 2, /refused the admin credentials \(401\)/],
      [['add-hall', '--hall', 'c303'], asBox, '', 2, /is not a server admin/],
      [['add-hall', '--hall', 'c303'], { CENTRAL_URL: central.url }, '', 2, /No admin credentials/],
      [['add-hall', '--hall', 'c303', '--url', downUrl], env, '', 2, /refuses connections \(is it running\?\)/],
      [['add-hall', '--hall', 'c303', '--url', 'ftp://x'], env, '', 2, /must be http/],
      [['add-appliance', '--hall', 'a101'], env, '', 2, /--appliance <id> is required/],
      [['add-appliance', '--appliance', 'box-new'], env, '', 2, /--hall <id> is required/],
      [['add-appliance', '--hall', 'a101', '--appliance', 'box:new'], env, '', 2, /--appliance "box:new": lower-case/],
      [['add-appliance', '--hall', 'a101', '--appliance', 'Box-New'], env, '', 2, /lower-case/],
      [
        ['add-appliance', '--hall', 'nowhere', '--appliance', 'box-new'],
        env,
        '',
        1,
        /no hall nowhere.*add-hall --hall nowhere/,
      ],
      [
        ['add-appliance', '--hall', 'a101', '--appliance', 'box-new', '--reset-password'],
        env,
        '',
        1,
        /has no user yet/,
      ],
      [
        ['add-appliance', '--hall', 'a101', '--appliance', 'box-new', '--password-stdin'],
        env,
        'short-pw\n',
        1,
        /too short/,
      ],
      [['add-appliance', '--hall', 'a101', '--appliance', 'box-new', '--box-url', 'nope'], env, '', 2, /--box-url/],
      [
        ['add-appliance', '--hall', 'b202', '--appliance', 'box-kept', '--reset-password'],
        env,
        '',
        1,
        /belongs to hall a101, not b202/,
      ],
      [['add-appliance', '--hall', 'a101', '--appliance', 'desk'], env, '', 1, /not this box's user/],
      [['add-appliance', '--hall', 'a101', '--appliance', 'box-new'], wrong, '', 2, /\(401\)/],
      [['add-appliance', '--hall', 'a101', '--appliance', 'box-new'], asBox, '', 2, /is not a server admin/],
      [
        ['add-appliance', '--hall', 'a101', '--appliance', 'box-new', '--url', downUrl],
        env,
        '',
        2,
        /refuses connections/,
      ],
      [['remove-appliance', '--appliance', 'box-kept'], env, '', 2, /--hall <id> is required/],
      [['remove-appliance', '--hall', 'a101'], env, '', 2, /--appliance <id> is required/],
      [['remove-appliance', '--hall', 'a101', '--appliance', 'box_kept'], env, '', 2, /lower-case/],
      [
        ['remove-appliance', '--hall', 'a101', '--appliance', 'box-kept', '--reset-password'],
        env,
        '',
        2,
        /takes no --reset-password/,
      ],
      [['remove-appliance', '--hall', 'b202', '--appliance', 'box-kept'], env, '', 1, /belongs to hall a101, not b202/],
      [['remove-appliance', '--hall', 'a101', '--appliance', 'box-none'], env, '', 1, /has no user/],
      [
        ['remove-appliance', '--hall', 'a101', '--appliance', 'desk'],
        env,
        '',
        1,
        /not this box's user, and it was left alone/,
      ],
      [['remove-appliance', '--hall', 'a101', '--appliance', 'box-kept'], wrong, '', 2, /\(401\)/],
      [['remove-appliance', '--hall', 'a101', '--appliance', 'box-kept'], asBox, '', 2, /is not a server admin/],
      [
        ['remove-appliance', '--hall', 'a101', '--appliance', 'box-kept', '--url', downUrl],
        env,
        '',
        2,
        /refuses connections/,
      ],
    ];
    for (const [args, runEnv, stdin, code, message] of cases) {
      const r = await run(args, runEnv, stdin);
      const label = `${args.join(' ')} → ${r.err}`;
      expect(r.code, label).toBe(code);
      expect(r.err, label).toMatch(message);
      expect(r.out, label).toBe('');
      expect(r.err + r.out, label).not.toContain('wrong-password-5150');
    }
    expect(await snapshot()).toEqual(before);
    // The server is still up (a non-admin's PUT /<db> would have killed pouchdb-server).
    expect((await couch('GET', '/')).status).toBe(200);
  });
});

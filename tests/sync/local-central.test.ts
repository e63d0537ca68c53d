/**
 * `npm run central`, the local central server for trying the institution's side out: it starts,
 * prints its URL and admin, answers, keeps its data and admin across a restart, and stops with
 * its pouchdb-server on SIGTERM to its PID. Its guard keeps pouchdb-server 4.2.0 alive and its
 * security objects and roles intact — and, on a bare pouchdb-server, what the guard is for: the
 * crash on a non-admin's `PUT /<newdb>`, a member rewriting `_local/_security`, and a user
 * giving themselves roles (docs/sync.md, "Try it locally"). If a later pouchdb-server fixes one
 * of these, its test here fails: the guard's rule for it may then go.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPouchdbServer, type PouchdbServer } from '../../sync/central/local-server.js';
import { makeTempDir, removeTempDir, REPO_ROOT, withDeadline } from '../support/appliance-process.js';

interface User {
  name: string;
  password: string;
}

async function couch(base: string, method: string, p: string, user?: User, body?: unknown) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(user ? { authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (an HTML page).
  }
  return { status: res.status, body: parsed as Record<string, unknown> };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `npm run central -- <args>` as a child process, until its "listening" line. */
class CentralScript {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(dataDir: string): Promise<CentralScript & { url: string; pid: number; pouchPid: number }> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CENTRAL_')) env[k] = v;
    const child = spawn('npm', ['run', '--silent', 'central', '--', '--port', '0', '--data', dataDir], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const script = new CentralScript(child);
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => {
        if (/^Central server listening on \S+$/m.test(script.stdout)) resolve();
      });
      void script.exited.then((e) =>
        reject(new Error(`npm run central ended (code ${e.code}): ${script.stdout}\n${script.stderr}`)),
      );
    });
    await withDeadline(
      ready,
      60_000,
      () => `no URL from npm run central within 60 s:\n${script.stdout}\n${script.stderr}`,
    );
    const url = /^Central server listening on (\S+)$/m.exec(script.stdout)![1]!;
    const pids = /PID:\s+(\d+) \(.*pouchdb-server, PID (\d+)\)/.exec(script.stdout)!;
    return Object.assign(script, { url, pid: Number(pids[1]), pouchPid: Number(pids[2]) });
  }
}

describe('npm run central', () => {
  let dir: string;
  const started: { pid: number; pouchPid: number; child: ChildProcess }[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('local-central-');
  });
  afterAll(async () => {
    for (const s of started)
      for (const pid of [s.pid, s.pouchPid, s.child.pid])
        if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    await removeTempDir(dir);
  });

  it('starts, answers, keeps pouchdb-server up against what would crash it, and stops with it by PID', async () => {
    const dataDir = path.join(dir, 'central-data');
    const central = await CentralScript.start(dataDir);
    started.push(central);
    expect(central.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(central.stdout).toContain('npm run sync -- add-hall --hall demo-hall');
    expect(central.stdout).toContain('npm run sync -- publish examples/exam-demo.json examples/roster-demo.csv');
    const root = await couch(central.url, 'GET', '/');
    expect(root).toMatchObject({ status: 200, body: { 'express-pouchdb': 'Welcome!', version: '4.2.0' } });

    const admin = { name: 'admin', password: (await readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim() };
    expect(central.stdout).toContain(`CENTRAL_PASSWORD='${admin.password}'`);
    expect((await couch(central.url, 'GET', '/_session', admin)).body).toMatchObject({
      userCtx: { name: 'admin', roles: ['_admin'] },
    });
    expect((await couch(central.url, 'PUT', '/hall-h1', admin)).status).toBe(201);
    expect(
      (
        await couch(central.url, 'PUT', '/hall-h1/_security', admin, {
          admins: { names: [], roles: [] },
          members: { names: [], roles: ['hall:h1'] },
        })
      ).status,
    ).toBe(200);
    const box = { name: 'appliance-box-1', password: 'box-password-0123456789' };
    expect(
      (
        await couch(central.url, 'PUT', `/_users/org.couchdb.user:${box.name}`, admin, {
          name: box.name,
          password: box.password,
          roles: ['appliance:box-1', 'hall:h1'],
          type: 'user',
        })
      ).status,
    ).toBe(201);

    // What kills a bare pouchdb-server: a non-admin's PUT /<new db>, and DELETE /<db>.
    for (const user of [undefined, box]) {
      expect(await couch(central.url, 'PUT', '/newdb', user)).toEqual({
        status: 401,
        body: { error: 'unauthorized', reason: 'You are not a server admin.' },
      });
      expect((await couch(central.url, 'DELETE', '/hall-h1', user)).status).toBe(401);
    }
    // The security object stays the admin's; roles stay what the admin gave.
    const sec = await couch(central.url, 'GET', '/hall-h1/_local/_security', box);
    expect(
      (await couch(central.url, 'PUT', '/hall-h1/_local/_security', box, { ...sec.body, security: {} })).status,
    ).toBe(403);
    expect(
      (
        await couch(central.url, 'POST', '/hall-h1/_bulk_docs', box, {
          docs: [{ _id: '_local/_security', security: {} }],
        })
      ).status,
    ).toBe(403);
    expect((await couch(central.url, 'PUT', '/hall-h1/x', box, { _id: '_local/_security', security: {} })).status).toBe(
      403,
    );
    expect(
      (
        await couch(central.url, 'PUT', `/_users/org.couchdb.user:${box.name}`, box, {
          name: box.name,
          password: box.password,
          roles: ['appliance:box-2', 'hall:h2'],
          type: 'user',
        })
      ).status,
    ).toBe(403);
    // The replicator's checkpoints still go through.
    expect((await couch(central.url, 'PUT', '/hall-h1/_local/checkpoint-1', box, { last_seq: 3 })).status).toBe(201);
    expect((await couch(central.url, 'GET', '/hall-h1/_security', admin)).body).toEqual({
      admins: { names: [], roles: [] },
      members: { names: [], roles: ['hall:h1'] },
    });
    expect((await couch(central.url, 'GET', '/_session', box)).body).toMatchObject({
      userCtx: { roles: ['appliance:box-1', 'hall:h1'] },
    });
    expect(alive(central.pouchPid)).toBe(true);
    expect((await couch(central.url, 'GET', '/')).status).toBe(200);
    // Locations name the port the client used, not pouchdb-server's own.
    const created = await fetch(`${central.url}/hall-h1/event:e1:box-1:1`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ note: 'admin write' }),
    });
    expect(created.status).toBe(201);
    expect(new URL(created.headers.get('location') ?? 'http://x').port).toBe(new URL(central.url).port);

    process.kill(central.pid, 'SIGTERM');
    expect(await withDeadline(central.exited, 20_000, () => 'npm run central did not end after SIGTERM')).toEqual({
      code: 0,
      signal: null,
    });
    expect(alive(central.pid)).toBe(false);
    expect(alive(central.pouchPid)).toBe(false);

    // Again on the same folder: the same admin, the data kept.
    const again = await CentralScript.start(dataDir);
    started.push(again);
    expect((await couch(again.url, 'GET', '/hall-h1', admin)).status).toBe(200);
    expect((await couch(again.url, 'GET', '/hall-h1', box)).status).toBe(200);
    process.kill(again.pid, 'SIGTERM');
    expect((await withDeadline(again.exited, 20_000, () => 'no end after SIGTERM')).code).toBe(0);
    expect(alive(again.pouchPid)).toBe(false);
  });
});

describe('npm run central, refusing bad input', () => {
  const script = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'sync/central/local-server.ts', ...args], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, out }));
    });
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('local-central-bad-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('says what is wrong with its options, or with a port in use, and exits non-zero', async () => {
    expect(await script(['--port', 'abc', '--data', dir])).toMatchObject({
      code: 2,
      out: expect.stringContaining('--port abc'),
    });
    expect(await script(['--frobnicate'])).toMatchObject({
      code: 2,
      out: expect.stringContaining("Unknown option '--frobnicate'"),
    });
    expect(await script(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('Usage: npm run central') });
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await script(['--port', String(port), '--data', path.join(dir, 'data')]);
      expect(r).toMatchObject({ code: 1, out: expect.stringContaining(`Port ${port} on 127.0.0.1 is in use`) });
    } finally {
      taken.close();
    }
  });
});

describe('a bare pouchdb-server 4.2.0 (why npm run central has its guard)', () => {
  let dir: string;
  let server: PouchdbServer;
  let base: string;
  const admin = { name: 'admin', password: 'bare-admin-password-1' };
  const box = { name: 'appliance-box-1', password: 'box-password-0123456789' };

  beforeAll(async () => {
    dir = await makeTempDir('bare-pouchdb-server-');
    server = await startPouchdbServer({ dir, port: await freePort(), admin });
    base = `http://127.0.0.1:${server.port}`;
    expect((await couch(base, 'PUT', '/hall-h1', admin)).status).toBe(201);
    await couch(base, 'PUT', '/hall-h1/_security', admin, { members: { names: [], roles: ['hall:h1'] } });
    await couch(base, 'PUT', `/_users/org.couchdb.user:${box.name}`, admin, {
      name: box.name,
      password: box.password,
      roles: ['appliance:box-1', 'hall:h1'],
      type: 'user',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await removeTempDir(dir);
  });

  it('lets a member rewrite the security object through _local/_security, and then write design documents', async () => {
    const doc = (await couch(base, 'GET', '/hall-h1/_local/_security', box)).body;
    const hijacked = { admins: { names: [box.name], roles: [] }, members: { names: [], roles: ['hall:h1'] } };
    expect((await couch(base, 'PUT', '/hall-h1/_local/_security', box, { ...doc, security: hijacked })).status).toBe(
      201,
    );
    expect((await couch(base, 'GET', '/hall-h1/_security', admin)).body).toEqual(hijacked);
    expect(
      (await couch(base, 'PUT', '/hall-h1/_design/hall', box, { validate_doc_update: 'function () {}' })).status,
    ).toBe(201);
  });

  it('lets a user give themselves any role by editing their own _users document', async () => {
    const own = (await couch(base, 'GET', `/_users/org.couchdb.user:${box.name}`, box)).body;
    const res = await couch(base, 'PUT', `/_users/org.couchdb.user:${box.name}`, box, {
      ...own,
      password: box.password,
      roles: ['appliance:box-1', 'appliance:box-2', 'hall:h1', 'hall:h2'],
    });
    expect(res.status).toBe(201);
    expect((await couch(base, 'GET', '/_session', box)).body).toMatchObject({
      userCtx: { roles: ['appliance:box-1', 'appliance:box-2', 'hall:h1', 'hall:h2'] },
    });
  });

  it('crashes on an anonymous PUT /<new database> (TypeError: db.info is not a function)', async () => {
    await fetch(`${base}/newdb`, { method: 'PUT' }).catch(() => undefined);
    const ended = await withDeadline(server.exited, 20_000, () => 'pouchdb-server is still running');
    expect(ended.code).not.toBe(0);
    expect(server.stderr()).toContain('db.info is not a function');
  });
});

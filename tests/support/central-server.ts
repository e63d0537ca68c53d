/**
 * Test support: a stand-in for the institution's CouchDB 3 — express-pouchdb 4.2 on PouchDB 9
 * (memory adapter), in this process on 127.0.0.1, port 0 — and a link to it that a test can cut.
 *
 * What the stand-in does and does not do (see docs/sync.md):
 * - It runs `validate_doc_update` (express-pouchdb's "validation" part, pouchdb-validation) on
 *   every write, replicated ones included, with the user context set below.
 * - It has no `_users` database (express-pouchdb crashes once users are configured): a small
 *   front layer here checks basic-auth credentials against an in-memory table, answers
 *   `GET /_session` the way CouchDB does, and hands express-pouchdb the user context. It also
 *   does CouchDB's cookie sessions: `POST /_session` (JSON or form body) sets an `AuthSession`
 *   cookie that authenticates later requests, `DELETE /_session` ends it; and, as CouchDB 3,
 *   only admins may list the databases (`_all_dbs`).
 * - Its "routes/security" part stores the database security object and keeps non-members out
 *   (with 401, where CouchDB 3 answers an authenticated non-member 403).
 * - It counts every document it receives in `_bulk_docs` (by id), so tests can see re-sends, and
 *   every document it is asked about in `_revs_diff`, so tests can see where a push resumed.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import expressPouchDb from 'express-pouchdb';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import { centralLink, type CentralLink } from '../../sync/central-link.js';

PouchDB.plugin(memoryAdapter);

export interface CentralUser {
  username: string;
  password: string;
}

export interface CentralServer {
  /** Base URL of the server (no credentials). */
  url: string;
  admin: CentralUser;
  /** Adds a (non-admin) user with roles, e.g. a hall's user with `appliance:<id>`. */
  addUser(username: string, password: string, roles: string[]): CentralUser;
  /** Ends every cookie session (as CouchDB's session timeout would). */
  endSessions(): void;
  /** A link for a user, optionally through another base URL (a CuttableLink's). */
  link(user: CentralUser, baseUrl?: string): CentralLink;
  /** Times each document id was received in `_bulk_docs` (ids starting with `_` are not counted). */
  received: Map<string, number>;
  /** Total documents received in `_bulk_docs` (with repeats). */
  receivedTotal(): number;
  /** Documents asked about in `_revs_diff` (with repeats): a replication that restarts from its
   * checkpoint asks again only about what came after it. */
  revsDiffTotal(): number;
  close(): Promise<void>;
}

export async function startCentralServer(options: { validation?: boolean } = {}): Promise<CentralServer> {
  const ServerPouch = PouchDB.defaults({
    adapter: 'memory',
    // A name prefix of its own, so that two stand-ins in one process never share a database.
    prefix: `central-${Math.random().toString(36).slice(2)}-`,
  });
  const app = expressPouchDb(ServerPouch, {
    mode: 'minimumForPouchDB',
    overrideMode: { include: ['routes/security', ...(options.validation === false ? [] : ['validation'])] },
  });
  const received = new Map<string, number>();
  let total = 0;
  let revsDiffTotal = 0;
  app.dbWrapper.registerWrapper((_name, db, next) => {
    const bulkDocs = db.bulkDocs.bind(db) as (...args: unknown[]) => unknown;
    (db as unknown as { bulkDocs: (...args: unknown[]) => unknown }).bulkDocs = (body: unknown, ...rest: unknown[]) => {
      const docs = Array.isArray(body) ? body : ((body as { docs?: { _id?: string }[] }).docs ?? []);
      const replicated = !Array.isArray(body) && (body as { new_edits?: unknown }).new_edits === false;
      for (const d of docs as { _id?: string; _rev?: unknown; _revisions?: unknown }[]) {
        if (replicated) keepRevisions(d);
        if (!d._id || d._id.startsWith('_')) continue;
        received.set(d._id, (received.get(d._id) ?? 0) + 1);
        total++;
      }
      return bulkDocs(body, ...rest);
    };
    const revsDiff = db.revsDiff.bind(db) as (...args: unknown[]) => unknown;
    (db as unknown as { revsDiff: (...args: unknown[]) => unknown }).revsDiff = (body: unknown, ...rest: unknown[]) => {
      revsDiffTotal += Object.keys(body as object).length;
      return revsDiff(body, ...rest);
    };
    next();
  });

  const admin: CentralUser = { username: 'institution-admin', password: 'admin-secret' };
  const users = new Map<string, { password: string; roles: string[] }>([
    [admin.username, { password: admin.password, roles: ['_admin'] }],
  ]);

  /** Cookie sessions: AuthSession token → user name. */
  const cookieSessions = new Map<string, string>();
  const sendJson = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: http.OutgoingHttpHeaders = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const unauthorized = (res: http.ServerResponse) =>
    sendJson(res, 401, { error: 'unauthorized', reason: 'Name or password is incorrect.' });

  /** POST /_session: name and password from a JSON or form body; a cookie on success. */
  const signIn = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let fields: { name?: unknown; password?: unknown } = {};
      try {
        fields = /json/.test(req.headers['content-type'] ?? '')
          ? (JSON.parse(text) as typeof fields)
          : Object.fromEntries(new URLSearchParams(text));
      } catch {
        sendJson(res, 400, { error: 'bad_request', reason: 'Request body is not valid JSON' });
        return;
      }
      const user = typeof fields.name === 'string' ? users.get(fields.name) : undefined;
      if (!user || user.password !== fields.password) {
        unauthorized(res);
        return;
      }
      const token = randomBytes(24).toString('hex');
      cookieSessions.set(token, fields.name as string);
      sendJson(
        res,
        200,
        { ok: true, name: fields.name, roles: [...user.roles] },
        { 'set-cookie': `AuthSession=${token}; Version=1; Path=/; HttpOnly` },
      );
    });
  };

  const server = http.createServer((req, res) => {
    const pathname = req.url?.split('?')[0];
    if (req.method === 'POST' && pathname === '/_session') {
      signIn(req, res);
      return;
    }
    const cookie = /(?:^|;\s*)AuthSession=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
    const header = req.headers.authorization ?? '';
    let name: string;
    if (cookie !== undefined && header === '') {
      const sessionUser = cookieSessions.get(cookie);
      if (sessionUser === undefined || !users.has(sessionUser)) {
        if (req.method === 'GET' && pathname === '/_session') {
          sendJson(res, 200, { ok: true, userCtx: { name: null, roles: [] }, info: {} });
          return;
        }
        unauthorized(res);
        return;
      }
      if (req.method === 'DELETE' && pathname === '/_session') {
        cookieSessions.delete(cookie);
        sendJson(res, 200, { ok: true }, { 'set-cookie': 'AuthSession=; Version=1; Path=/; HttpOnly' });
        return;
      }
      name = sessionUser;
    } else {
      const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      name = decoded.slice(0, Math.max(colon, 0));
      const user = users.get(name);
      if (!user || user.password !== decoded.slice(colon + 1)) {
        unauthorized(res);
        return;
      }
    }
    const user = users.get(name)!;
    const userCtx = { name, roles: [...user.roles] };
    if (req.method === 'GET' && pathname === '/_session') {
      sendJson(res, 200, { ok: true, userCtx, info: { authenticated: cookie === undefined ? 'default' : 'cookie' } });
      return;
    }
    if (pathname === '/_all_dbs' && !user.roles.includes('_admin')) {
      sendJson(res, 403, { error: 'forbidden', reason: 'You are not a server admin.' });
      return;
    }
    (req as http.IncomingMessage & { couchSession?: unknown }).couchSession = { ok: true, userCtx };
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    admin,
    addUser(username, password, roles) {
      users.set(username, { password, roles });
      return { username, password };
    },
    endSessions: () => cookieSessions.clear(),
    link: (user, baseUrl = url) => centralLink(baseUrl, user.username, user.password),
    received,
    receivedTotal: () => total,
    revsDiffTotal: () => revsDiffTotal,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * pouchdb-validation sets a replicated document's `_revisions` to those of the database's current
 * revision before it validates, so a new generation-1 branch of an existing id (a right blob
 * chunk after a wrong one) would be stored as a no-op re-send of the old revision. CouchDB keeps
 * the branch (a conflict): pin the document's own revision path so the stand-in does too.
 */
function keepRevisions(doc: { _rev?: unknown; _revisions?: unknown }): void {
  const match = typeof doc._rev === 'string' ? /^(\d+)-(.+)$/.exec(doc._rev) : null;
  if (!match) return;
  const revisions = doc._revisions ?? { start: Number(match[1]), ids: [match[2]] };
  Object.defineProperty(doc, '_revisions', {
    enumerable: true,
    configurable: true,
    get: () => revisions,
    set: () => undefined,
  });
}

/**
 * A TCP link between the appliance and the server that a test can cut (every open connection
 * is destroyed, new ones are dropped at once) and restore.
 */
export interface CuttableLink {
  url: string;
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startCuttableLink(targetUrl: string): Promise<CuttableLink> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let isCut = false;
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      isCut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

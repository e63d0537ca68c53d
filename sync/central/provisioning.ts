/**
 * Provisioning halls and boxes on the central CouchDB (`npm run sync -- add-hall | add-appliance
 * | remove-appliance`), through CouchDB's own HTTP API with a server admin's credentials.
 *
 * - A hall is the database `hall-<hallId>` with `_design/hall` (validate_doc_update) and a
 *   security object whose members are the role `hall:<hallId>` (contract C4) plus any member
 *   names it had (the legacy one user per hall, `hall-<hallId>`); database admins: none (server
 *   admins, the institution, may do anything anyway).
 * - A box is one CouchDB user, `appliance-<applianceId>`, in `_users`, with the roles
 *   `appliance:<applianceId>` (what validate_doc_update lets it write) and `hall:<hallId>` (which
 *   database it may read and write). Its documents carry `applianceId` and `hallId` besides.
 *   A box belongs to one hall; moving it is remove-appliance, then add-appliance.
 * - Revoking a box deletes its user: its credentials get 401 everywhere at once; what it pushed
 *   stays in the hall database.
 *
 * Every function checks everything it can before it writes anything, and says what is wrong as a
 * ProvisioningError (a value the CLI prints), never a half-done change.
 */
import { installPortalDesign } from './portal-design.js';
import { randomBytes } from 'node:crypto';
import { authHeaders, type CentralLink, hallDbName, openCentralDb } from '../central-link.js';
import { applianceRole } from './validate-doc-update.js';
import { installDesign } from './institution.js';

/** Hall ids: lower-case letters, digits and `-` (they name a database, `hall-<id>`). */
export const HALL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Appliance ids (`box-3f2a9c01d4` as the box makes them): the same characters, no `:`. */
export const APPLIANCE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The shortest password accepted from standard input. */
export const MIN_PASSWORD_LENGTH = 16;

/** The role that makes a user a member of a hall's database (contract C4). */
export const hallRole = (hallId: string) => `hall:${hallId}`;
/** The CouchDB user of one box. No `:` (basic auth splits there), a prefix no person's name has. */
export const applianceUserName = (applianceId: string) => `appliance-${applianceId}`;
const userDocId = (name: string) => `org.couchdb.user:${name}`;

/** A refusal in plain words; `exitCode` 1: the request does not fit what is there, 2: setup. */
export class ProvisioningError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A generated password: 24 random bytes, 32 characters of base64url (192 bits). */
export const generatePassword = () => randomBytes(24).toString('base64url');

/** The innermost error code (ECONNREFUSED, ENOTFOUND, ...) of a failed fetch, else its cause's words. */
function networkFailureOf(err: unknown): { code: string | undefined; message: string } {
  let e: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && code !== '') return { code, message };
    if (cause instanceof Error) message = cause.message;
    e = cause;
  }
  return { code: undefined, message };
}

interface CouchAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** One request to the server as the link's user; network failures become ProvisioningErrors. */
async function couch(link: CentralLink, method: string, path: string, body?: unknown): Promise<CouchAnswer> {
  let res: Response;
  try {
    res = await fetch(`${link.baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...authHeaders(link),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    const { code, message } = networkFailureOf(err);
    throw new ProvisioningError(
      code === 'ECONNREFUSED'
        ? `The central server ${link.server} refuses connections (is it running?). Nothing was changed.`
        : `The central server ${link.server} cannot be reached (${code ?? message}). Nothing was changed.`,
      2,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    parsed = { reason: text.slice(0, 200) };
  }
  return {
    status: res.status,
    body: typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {},
  };
}

const reasonOf = (a: CouchAnswer) => (typeof a.body.reason === 'string' ? a.body.reason : `HTTP ${a.status}`);

/** Fails unless the answer has one of `ok` statuses, naming what was being done. */
function expectStatus(a: CouchAnswer, ok: number[], doing: string): CouchAnswer {
  if (ok.includes(a.status)) return a;
  throw new ProvisioningError(`The central server refused ${doing} (${a.status}): ${reasonOf(a)}.`, 2);
}

/**
 * Checks that the link's user is a server admin (`GET /_session`), before anything is written:
 * only admins create databases and users (and on pouchdb-server a non-admin's `PUT /<db>`
 * crashes the server, docs/sync.md).
 */
export async function requireServerAdmin(link: CentralLink): Promise<string> {
  if (link.username === undefined)
    throw new ProvisioningError(
      'No admin credentials: give them in the URL, or as --user / CENTRAL_USER and CENTRAL_PASSWORD. Nothing was changed.',
      2,
    );
  const session = await couch(link, 'GET', '/_session');
  if (session.status === 401)
    throw new ProvisioningError(`The central server refused the admin credentials (401). Nothing was changed.`, 2);
  expectStatus(session, [200], 'GET /_session');
  const userCtx = session.body.userCtx as { name?: unknown; roles?: unknown } | undefined;
  const roles = Array.isArray(userCtx?.roles) ? (userCtx.roles as unknown[]) : [];
  const name = typeof userCtx?.name === 'string' ? userCtx.name : link.username;
  if (!roles.includes('_admin'))
    throw new ProvisioningError(
      `${name} is not a server admin of ${link.server}; provisioning needs the institution's admin. Nothing was changed.`,
      2,
    );
  return name;
}

interface SecurityObject {
  admins: { names: string[]; roles: string[] };
  members: { names: string[]; roles: string[] };
  [other: string]: unknown;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function securityOf(body: Record<string, unknown>): SecurityObject {
  const section = (v: unknown) => {
    const s = (typeof v === 'object' && v !== null ? v : {}) as { names?: unknown; roles?: unknown };
    return { names: strings(s.names), roles: strings(s.roles) };
  };
  return { ...body, admins: section(body.admins), members: section(body.members) };
}

async function hallExists(link: CentralLink, hallId: string): Promise<boolean> {
  const info = await couch(link, 'GET', `/${hallDbName(hallId)}`);
  if (info.status === 404) return false;
  expectStatus(info, [200], `reading ${hallDbName(hallId)}`);
  return true;
}

async function readSecurity(link: CentralLink, hallId: string): Promise<SecurityObject> {
  const answer = expectStatus(
    await couch(link, 'GET', `/${hallDbName(hallId)}/_security`),
    [200],
    `reading the security object of ${hallDbName(hallId)}`,
  );
  return securityOf(answer.body);
}

export interface AddHallReport {
  database: 'created' | 'existed';
  design: 'created' | 'updated' | 'unchanged';
  /** The portal's views (`_design/portal`). */
  portalDesign: 'created' | 'updated' | 'unchanged';
  security: 'set' | 'updated' | 'unchanged';
  members: { names: string[]; roles: string[] };
}

/**
 * Creates `hall-<hallId>` if missing, installs `_design/hall`, and makes the role
 * `hall:<hallId>` a member (keeping the members and admins already there). Safe to run again:
 * it is also how a hall made with `install-design` gets per-box users, and how a changed
 * design document is installed.
 */
export async function addHall(link: CentralLink, hallId: string): Promise<AddHallReport> {
  await requireServerAdmin(link);
  const db = hallDbName(hallId);
  let database: AddHallReport['database'] = 'existed';
  if (!(await hallExists(link, hallId))) {
    expectStatus(await couch(link, 'PUT', `/${db}`), [201, 202, 412], `creating ${db}`);
    database = 'created';
  }
  // On CouchDB 3 a new database is admin-only until its security object names members; on
  // pouchdb-server it is open to everyone until then, so the security object is set right after
  // the design document, before any box is told about the hall.
  const design = await installDesign(openCentralDb(link, hallId), hallId);
  const portalDesign = await installPortalDesign(openCentralDb(link, hallId));
  const before = await readSecurity(link, hallId);
  const role = hallRole(hallId);
  const after: SecurityObject = {
    ...before,
    admins: before.admins,
    members: {
      names: before.members.names,
      roles: before.members.roles.includes(role) ? before.members.roles : [...before.members.roles, role],
    },
  };
  const wasEmpty = before.members.names.length === 0 && before.members.roles.length === 0;
  let security: AddHallReport['security'] = 'unchanged';
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    expectStatus(
      await couch(link, 'PUT', `/${db}/_security`, after),
      [200, 201],
      `setting the security object of ${db}`,
    );
    security = wasEmpty ? 'set' : 'updated';
  }
  return { database, design, portalDesign, security, members: after.members };
}

interface UserDoc {
  _id: string;
  _rev?: string;
  name: string;
  type: 'user';
  roles: string[];
  password?: string;
  applianceId?: string;
  hallId?: string;
  [other: string]: unknown;
}

async function readUser(link: CentralLink, name: string): Promise<UserDoc | undefined> {
  const answer = await couch(link, 'GET', `/_users/${encodeURIComponent(userDocId(name))}`);
  if (answer.status === 404) return undefined;
  expectStatus(answer, [200], `reading the user ${name}`);
  return answer.body as unknown as UserDoc;
}

/** The hall a box's user belongs to (its `hall:` role), if any. */
const hallOfUser = (user: UserDoc) =>
  strings(user.roles)
    .find((r) => r.startsWith('hall:'))
    ?.slice('hall:'.length);

/** Refuses a user that is not the box's (no `appliance:<id>` role): never touch a person's account. */
function checkIsBoxUser(user: UserDoc, applianceId: string): void {
  if (!strings(user.roles).includes(applianceRole(applianceId)))
    throw new ProvisioningError(
      `The user ${user.name} exists but does not have the role ${applianceRole(applianceId)}: it is not this box's ` +
        `user, and it was left alone. Nothing was changed.`,
    );
}

export interface AddApplianceReport {
  user: string;
  roles: string[];
  password: string;
  /** Whether the password was generated here (then it is shown once and nowhere kept). */
  generated: boolean;
  action: 'created' | 'password-reset';
}

/**
 * Creates the box's user in `_users` with the roles `appliance:<applianceId>` and
 * `hall:<hallId>` and the given (or a generated) password. The hall must exist and admit its
 * role. An existing box is refused unless `resetPassword`, which gives it the new password and
 * leaves its roles as they are.
 */
export async function addAppliance(
  link: CentralLink,
  options: { hallId: string; applianceId: string; password?: string; resetPassword?: boolean; now?: Date },
): Promise<AddApplianceReport> {
  const { hallId, applianceId } = options;
  if (options.password !== undefined && options.password.length < MIN_PASSWORD_LENGTH)
    throw new ProvisioningError(
      `The password on standard input is too short: at least ${MIN_PASSWORD_LENGTH} characters (or leave out ` +
        `--password-stdin and one is generated). Nothing was changed.`,
    );
  await requireServerAdmin(link);
  const db = hallDbName(hallId);
  if (!(await hallExists(link, hallId)))
    throw new ProvisioningError(
      `The central server has no hall ${hallId} (database ${db}): run \`npm run sync -- add-hall --hall ${hallId}\` ` +
        `first. Nothing was changed.`,
    );
  const security = await readSecurity(link, hallId);
  if (!security.members.roles.includes(hallRole(hallId)))
    throw new ProvisioningError(
      `${db} does not admit the role ${hallRole(hallId)} (it was set up by install-design or by hand): run ` +
        `\`npm run sync -- add-hall --hall ${hallId}\` to add it (the members it has stay). Nothing was changed.`,
    );
  const name = applianceUserName(applianceId);
  const existing = await readUser(link, name);
  const generated = options.password === undefined;
  const password = options.password ?? generatePassword();
  if (existing) {
    checkIsBoxUser(existing, applianceId);
    const itsHall = hallOfUser(existing);
    if (itsHall !== hallId)
      throw new ProvisioningError(
        `Box ${applianceId} belongs to hall ${itsHall ?? '(none)'}, not ${hallId}: move it with ` +
          `\`remove-appliance --hall ${itsHall ?? '<id>'} --appliance ${applianceId}\`, then add-appliance. Nothing was changed.`,
      );
    if (!options.resetPassword)
      throw new ProvisioningError(
        `Box ${applianceId} already has its user ${name} in hall ${hallId}: its password was shown once, when it was ` +
          `added. --reset-password gives it a new one (the box then needs the new PROCTOR_SYNC_PASSWORD). Nothing was changed.`,
      );
    const { password: _oldPassword, ...rest } = existing;
    expectStatus(
      await couch(link, 'PUT', `/_users/${encodeURIComponent(existing._id)}`, { ...rest, password }),
      [201, 202],
      `changing the password of ${name}`,
    );
    return { user: name, roles: strings(existing.roles), password, generated, action: 'password-reset' };
  }
  if (options.resetPassword)
    throw new ProvisioningError(
      `Box ${applianceId} has no user yet (${name}): add it without --reset-password. Nothing was changed.`,
    );
  const roles = [applianceRole(applianceId), hallRole(hallId)];
  const doc: UserDoc = {
    _id: userDocId(name),
    name,
    type: 'user',
    roles,
    password,
    applianceId,
    hallId,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  const created = await couch(link, 'PUT', `/_users/${encodeURIComponent(doc._id)}`, doc);
  if (created.status === 409)
    throw new ProvisioningError(
      `Box ${applianceId} was added at the same moment by someone else. Nothing was changed.`,
    );
  expectStatus(created, [201, 202], `creating the user ${name}`);
  return { user: name, roles, password, generated, action: 'created' };
}

export interface RemoveApplianceReport {
  user: string;
}

/**
 * Revokes a box: deletes its user (its credentials get 401 from then on). Its documents in the
 * hall database stay. Refuses a user of another hall, or one that is not a box's.
 */
export async function removeAppliance(
  link: CentralLink,
  options: { hallId: string; applianceId: string },
): Promise<RemoveApplianceReport> {
  const { hallId, applianceId } = options;
  await requireServerAdmin(link);
  const name = applianceUserName(applianceId);
  const existing = await readUser(link, name);
  if (!existing)
    throw new ProvisioningError(`Box ${applianceId} has no user (${name}) on ${link.server}. Nothing was changed.`);
  checkIsBoxUser(existing, applianceId);
  const itsHall = hallOfUser(existing);
  if (itsHall !== hallId)
    throw new ProvisioningError(
      `Box ${applianceId} belongs to hall ${itsHall ?? '(none)'}, not ${hallId}. Nothing was changed.`,
    );
  expectStatus(
    await couch(
      link,
      'DELETE',
      `/_users/${encodeURIComponent(existing._id)}?rev=${encodeURIComponent(existing._rev ?? '')}`,
    ),
    [200, 202],
    `deleting the user ${name}`,
  );
  return { user: name };
}

/**
 * The central server's address and credentials, and the hall database on it. Credentials may be
 * given inside the URL (`https://user:pass@host:6984`) or separately; either way they are taken
 * out of the URL, sent as basic auth, and never printed.
 */
import PouchDB from 'pouchdb';

export interface CentralLink {
  /** Base URL without credentials and without a trailing slash. */
  baseUrl: string;
  /** `host:port` of the server, for messages and logs. */
  server: string;
  username: string | undefined;
  password: string | undefined;
}

/** The central database of a hall. */
export const hallDbName = (hallId: string) => `hall-${hallId}`;

/** Builds a link from a URL and optional separate credentials (which win over the URL's). */
export function centralLink(url: string, username?: string, password?: string): CentralLink {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`the central server's URL must be http:// or https://, not ${parsed.protocol}`);
  const user = username ?? (parsed.username === '' ? undefined : decodeURIComponent(parsed.username));
  const pass = password ?? (parsed.password === '' ? undefined : decodeURIComponent(parsed.password));
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return { baseUrl: parsed.toString().replace(/\/+$/, ''), server: parsed.host, username: user, password: pass };
}

/** Basic-auth headers for the link, if it has credentials. */
export function authHeaders(link: CentralLink): Record<string, string> {
  if (link.username === undefined) return {};
  const token = Buffer.from(`${link.username}:${link.password ?? ''}`).toString('base64');
  return { authorization: `Basic ${token}` };
}

/** The hall's central database as a PouchDB (HTTP) database; never creates it. */
export function openCentralDb(link: CentralLink, hallId: string, options: { create?: boolean } = {}): PouchDB.Database {
  return new PouchDB(`${link.baseUrl}/${hallDbName(hallId)}`, {
    skip_setup: !(options.create ?? false),
    ...(link.username === undefined ? {} : { auth: { username: link.username, password: link.password ?? '' } }),
  });
}

/** Who the server says the link's user is (`GET /_session`). */
export async function sessionOf(link: CentralLink): Promise<{ name: string | null; roles: string[] }> {
  const res = await fetch(`${link.baseUrl}/_session`, {
    headers: { accept: 'application/json', ...authHeaders(link) },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { reason?: string };
    throw Object.assign(new Error(body.reason ?? res.statusText), { status: res.status, reason: body.reason });
  }
  const body = (await res.json()) as { userCtx?: { name?: string | null; roles?: string[] } };
  return { name: body.userCtx?.name ?? null, roles: body.userCtx?.roles ?? [] };
}

const ERROR_STATUS: Record<string, number> = { unauthorized: 401, forbidden: 403, not_found: 404 };

/**
 * Checks the hall database is there and the link's user may read it. PouchDB's HTTP `info()`
 * answers a refusal with an `{error, reason}` object instead of failing: turn it into an error
 * with the HTTP status.
 */
export async function checkCentralDb(db: PouchDB.Database): Promise<void> {
  const info = (await db.info()) as PouchDB.Info & { error?: string; reason?: string };
  if (info.error === undefined) return;
  throw Object.assign(new Error(info.reason ?? info.error), {
    status: ERROR_STATUS[info.error] ?? 500,
    name: info.error,
    reason: info.reason,
  });
}

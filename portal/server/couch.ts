/**
 * The institution's CouchDB as the portal speaks to it: CouchDB's own HTTP API with the signed-in
 * user's session cookie (`AuthSession`, from `POST /_session`). The portal holds no password of
 * its own: every read and write is the user's, with the user's rights.
 *
 * CouchDB renews the cookie in answers when it is getting old; every answer's `Set-Cookie` is
 * taken into the session, so an active page keeps its session alive.
 */
import PouchDB from 'pouchdb';

/** A user's CouchDB session, held by the portal's server only (never sent to the page). */
export interface CouchSession {
  /** The `AuthSession` cookie's value. */
  cookie: string;
  name: string;
  roles: string[];
}

export const isAdmin = (s: { roles: readonly string[] }) => s.roles.includes('_admin');

/** A CouchDB answer that is not what was asked for, with its status and CouchDB's words. */
export class CouchError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`${status} ${error}: ${reason}`);
  }
}

/** The server could not be reached at all. */
export class CouchUnreachable extends Error {}

export type SignInResult = { ok: true; session: CouchSession } | { ok: false; status: number; reason: string };

const AUTH_SESSION = /(?:^|[,\s])AuthSession=([^;,]*)/;

export class Couch {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, fetchImpl: typeof fetch = fetch) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#fetch = fetchImpl;
  }

  /** `POST /_session` with the user's name and password; the password is not kept. */
  async signIn(name: string, password: string): Promise<SignInResult> {
    const res = await this.#send(`${this.baseUrl}/_session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    const body = (await res.json().catch(() => ({}))) as {
      ok?: boolean;
      name?: string;
      roles?: string[];
      reason?: string;
    };
    const cookie = AUTH_SESSION.exec(res.headers.get('set-cookie') ?? '')?.[1];
    if (!res.ok || cookie === undefined || cookie === '')
      return { ok: false, status: res.status, reason: body.reason ?? res.statusText };
    return { ok: true, session: { cookie, name: body.name ?? name, roles: body.roles ?? [] } };
  }

  /** `DELETE /_session`: ends the session on CouchDB too (best effort). */
  async signOut(session: CouchSession): Promise<void> {
    await this.request(session, 'DELETE', '/_session').catch(() => undefined);
  }

  /** A request as the session's user; renews the session's cookie from the answer. */
  async request(
    session: CouchSession,
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    return this.sessionFetch(session)(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** A JSON answer, or CouchError for any status but 2xx. */
  async json<T>(
    session: CouchSession,
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<T> {
    const res = await this.request(session, method, path, options);
    const body = (await res.json().catch(() => undefined)) as { error?: string; reason?: string } | undefined;
    if (!res.ok) throw new CouchError(res.status, body?.error ?? 'error', body?.reason ?? res.statusText);
    return body as T;
  }

  /** fetch with the session's cookie (for PouchDB's HTTP adapter too). */
  sessionFetch(session: CouchSession): typeof fetch {
    return async (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('cookie', `AuthSession=${session.cookie}`);
      headers.delete('authorization');
      const res = await this.#send(input, { ...init, headers });
      const renewed = AUTH_SESSION.exec(res.headers.get('set-cookie') ?? '')?.[1];
      if (renewed !== undefined && renewed !== '') session.cookie = renewed;
      return res;
    };
  }

  /**
   * A hall database as a PouchDB (HTTP) database with the session's rights: what the
   * institution's own functions (sync/central/institution.ts: publish, collect) take.
   */
  database(session: CouchSession, dbName: string): PouchDB.Database {
    const sessionFetch = this.sessionFetch(session);
    return new PouchDB(`${this.baseUrl}/${encodeURIComponent(dbName)}`, {
      skip_setup: true,
      // PouchDB reads attachments with `response.buffer()` where there is one (its own fetch in
      // Node) and as a Blob otherwise, which Node's hash functions do not take.
      fetch: async (input, init) => {
        const res = await sessionFetch(input, init);
        return Object.assign(res, { buffer: async () => Buffer.from(await res.arrayBuffer()) });
      },
    });
  }

  async #send(input: Parameters<typeof fetch>[0], init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(input, init);
    } catch (err) {
      if ((err as { name?: string }).name === 'AbortError') throw err;
      throw new CouchUnreachable(`the central CouchDB at ${new URL(this.baseUrl).host} cannot be reached`);
    }
  }
}

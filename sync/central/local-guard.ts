/**
 * The front of the local central server (`npm run central`): an HTTP proxy on 127.0.0.1 in front
 * of pouchdb-server 4.2.0 that closes what that server gets wrong where the hall's security
 * depends on it (each found and reproduced here, see docs/sync.md "Try it locally"):
 *
 * - A non-admin's `PUT /<db>` for a database that does not exist kills the server (express-pouchdb
 *   calls `.info()` on the 401 its security plugin returns instead of a database: a TypeError
 *   thrown from a callback), and a non-admin's `DELETE /<db>` kills it a moment after answering
 *   401 (an unhandled rejection). Here only server admins reach either; others get CouchDB 3's
 *   answer, 401 "You are not a server admin."
 * - pouchdb-security keeps a database's security object in the local document
 *   `_local/_security`, which any member may write (PUT, POST, `_bulk_docs`, or any body whose
 *   `_id` names it, since express-pouchdb lets the body's `_id` win over the URL's): a box could
 *   make itself the database's admin and then replace `_design/hall`. Here nobody writes that
 *   document; admins set the security object through `PUT /<db>/_security` as on CouchDB.
 * - Any user may rewrite their own `_users` document, roles included (the route adds `_admin` to
 *   the user's context for their own document): a box could give itself another box's or hall's
 *   role. Here `_users` and every other `_`-database or server endpoint but `_session`,
 *   `_all_dbs`, `_uuids`, `_utils` and `_up` are for server admins only (boxes need none of them;
 *   CouchDB's own public sign-up is not offered).
 *
 * To inspect write bodies the proxy reads them whole (at most MAX_WRITE_BODY_BYTES) and refuses
 * what it cannot read as pouchdb-server would: compressed bodies, charsets other than UTF-8 and
 * multipart/related documents. Everything else is passed through unchanged, streaming (the
 * changes feed included).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The largest write body read for inspection: a blob push batch is ~5.5 MB of JSON. */
export const MAX_WRITE_BODY_BYTES = 64 * 1024 * 1024;

/** Server endpoints (first path segment starting with `_`) that anyone may use. */
const OPEN_ENDPOINTS = new Set(['_session', '_all_dbs', '_uuids', '_utils', '_up']);
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SECURITY_DOC = '_local/_security';
/** Headers that belong to one connection, not to the request or answer passed on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'upgrade'] as const;

/** What the proxy does with a request, from its method and path alone. */
export type GuardVerdict =
  | { action: 'forward' }
  /** Forward only when the caller is a server admin; otherwise answer `status` with `reason`. */
  | { action: 'admin-only'; status: 401 | 403; error: string; reason: string }
  /** Refused for everybody. */
  | { action: 'refuse'; status: 400 | 403; error: string; reason: string }
  /** A write to a database: read the body and refuse it if it names `_local/_security`. */
  | { action: 'inspect-body' };

const NOT_SERVER_ADMIN = { error: 'unauthorized', reason: 'You are not a server admin.' } as const;
const SECURITY_DOC_REFUSAL = {
  action: 'refuse',
  status: 403,
  error: 'forbidden',
  reason: 'The security object is set with PUT /<db>/_security by an admin; _local/_security is not writable here.',
} as const;

/** Is this document id (as pouchdb-server would take it) the security object's document? */
export const namesSecurityDoc = (id: unknown): boolean =>
  typeof id === 'string' && (id === SECURITY_DOC || id.startsWith(`${SECURITY_DOC}/`));

/**
 * The verdict for `method` on `url` (path and query, as received). Pure: the admin check and the
 * body are the proxy's.
 */
export function guardVerdict(method: string, url: string, destination?: string): GuardVerdict {
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  let segments: string[];
  try {
    segments = rawPath
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return { action: 'refuse', status: 400, error: 'bad_request', reason: 'The URL is not valid percent-encoding.' };
  }
  const [first] = segments;
  const reading = READ_METHODS.has(method);
  if (first === undefined) return { action: 'forward' };
  if (first.startsWith('_')) {
    if (OPEN_ENDPOINTS.has(first)) return { action: 'forward' };
    return {
      action: 'admin-only',
      status: 403,
      error: 'forbidden',
      reason: `${first} is for server admins on this local server.`,
    };
  }
  if (reading) return { action: 'forward' };
  if (segments.length === 1 && method !== 'POST') return { action: 'admin-only', status: 401, ...NOT_SERVER_ADMIN };
  if (namesSecurityDoc(segments.slice(1).join('/'))) return SECURITY_DOC_REFUSAL;
  if (method === 'COPY') {
    const target = (destination ?? '').split('?')[0] ?? '';
    let decoded: string;
    try {
      decoded = decodeURIComponent(target);
    } catch {
      return { action: 'refuse', status: 400, error: 'bad_request', reason: 'The Destination header is not valid.' };
    }
    return namesSecurityDoc(decoded) ? SECURITY_DOC_REFUSAL : { action: 'forward' };
  }
  return { action: 'inspect-body' };
}

/**
 * Why a database write's body (and query) may not go through, or undefined if it may: it names
 * `_local/_security` (as `_id`, in `docs`, or as `?id=`), or it is in a form pouchdb-server reads
 * differently from this proxy.
 */
export function bodyRefusal(
  headers: http.IncomingHttpHeaders,
  url: string,
  body: Buffer,
): { status: 400 | 403 | 415; error: string; reason: string } | undefined {
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity')
    return { status: 415, error: 'unsupported_media_type', reason: 'Compressed request bodies are not accepted here.' };
  const type = (headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/related'))
    return {
      status: 415,
      error: 'unsupported_media_type',
      reason: 'multipart/related documents are not accepted here.',
    };
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/.exec(type)?.[1];
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return { status: 415, error: 'unsupported_media_type', reason: 'Request bodies must be UTF-8.' };
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  for (const id of query.getAll('id')) {
    let parsed: unknown = id;
    try {
      parsed = JSON.parse(id);
    } catch {
      // express-pouchdb keeps a query value that is not JSON as it is.
    }
    if (namesSecurityDoc(id) || namesSecurityDoc(parsed)) return SECURITY_DOC_REFUSAL;
  }
  if (body.length === 0 || !type.includes('json')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return { status: 400, error: 'bad_request', reason: 'invalid_json' };
  }
  // A document (PUT, POST), `{docs: [...]}` (`_bulk_docs`) or a bare array of documents.
  const candidates: unknown[] = Array.isArray(doc) ? [...doc] : [doc];
  const bulk = (doc as { docs?: unknown } | null)?.docs;
  if (Array.isArray(bulk)) candidates.push(...(bulk as unknown[]));
  for (const d of candidates)
    if (typeof d === 'object' && d !== null && namesSecurityDoc((d as { _id?: unknown })._id))
      return SECURITY_DOC_REFUSAL;
  return undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface LocalGuard {
  /** `http://127.0.0.1:<port>` of the proxy. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the proxy on `host:port` (0: a free port) in front of the pouchdb-server listening on
 * 127.0.0.1:`backendPort`.
 */
export async function startLocalGuard(options: {
  host: string;
  port: number;
  backendPort: number;
}): Promise<LocalGuard> {
  const { backendPort } = options;

  const backend = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | undefined): void => {
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    if (body !== undefined) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers },
      (answer) => {
        const answerHeaders = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete answerHeaders[name];
        // express-pouchdb names its own port in Location (CouchDB's are absolute): name this one.
        const location = answerHeaders.location;
        const listening = (server.address() as AddressInfo | null)?.port;
        if (typeof location === 'string' && listening !== undefined) {
          try {
            const at = new URL(location);
            if (at.port === String(backendPort)) {
              at.port = String(listening);
              answerHeaders.location = at.toString();
            }
          } catch {
            // Not a URL: pass it on as it is.
          }
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () =>
      sendJson(res, 502, { error: 'bad_gateway', reason: 'pouchdb-server behind this local server is not answering.' }),
    );
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body === undefined) req.pipe(upstream);
    else upstream.end(body);
  };

  /** Is the caller (its basic auth or cookie) a server admin? The backend's own `_session` says. */
  const isServerAdmin = async (req: http.IncomingMessage): Promise<boolean> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    if (req.headers.cookie) headers.cookie = req.headers.cookie;
    const res = await fetch(`http://127.0.0.1:${backendPort}/_session`, { headers });
    if (!res.ok) return false;
    const session = (await res.json()) as { userCtx?: { roles?: unknown } };
    const roles = session.userCtx?.roles;
    return Array.isArray(roles) && roles.includes('_admin');
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer | 'too-large'> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_WRITE_BODY_BYTES) {
          req.removeAllListeners('data');
          req.resume();
          resolve('too-large');
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const destination = req.headers.destination;
    const verdict = guardVerdict(method, url, typeof destination === 'string' ? destination : undefined);
    switch (verdict.action) {
      case 'forward':
        return backend(req, res, undefined);
      case 'refuse':
        req.resume();
        return sendJson(res, verdict.status, { error: verdict.error, reason: verdict.reason });
      case 'admin-only':
        if (await isServerAdmin(req)) return backend(req, res, undefined);
        req.resume();
        return sendJson(res, verdict.status, { error: verdict.error, reason: verdict.reason });
      case 'inspect-body': {
        const body = await readBody(req);
        if (body === 'too-large')
          return sendJson(res, 413, { error: 'too_large', reason: 'The request body is too large for this server.' });
        const refusal = bodyRefusal(req.headers, url, body);
        if (refusal) return sendJson(res, refusal.status, { error: refusal.error, reason: refusal.reason });
        return backend(req, res, body);
      }
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() =>
      sendJson(res, 502, { error: 'bad_gateway', reason: 'pouchdb-server behind this local server is not answering.' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The portal's Hono app, built from its dependencies; it never listens (main.ts does).
 *
 * Routes (every answer carries the security headers; every write must be same-origin):
 *   POST   /api/session                       sign in: proxied to CouchDB's POST /_session
 *   GET    /api/session                       who is signed in
 *   DELETE /api/session                       sign out (CouchDB's session too)
 *   GET    /api/overview                      the halls, their exams' totals and their boxes
 *   GET    /api/halls/:hall/exams/:exam/examinees    the per-examinee table
 *   POST   /api/halls/:hall/exams/:exam/max-downloads  set max downloads (admin)
 *   POST   /api/publish                       exam + roster to one or more halls (admin)
 *   GET    /api/halls/:hall/collect[?exam=]   the collect result, .tar.gz
 *   GET    /api/live                          server-sent events: `hall-changed`, `ping`, `session-ended`
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { PublishRequest, SessionInfo } from '../shared/api.js';
import { collectDownload } from './collect.js';
import type { PortalConfig } from './config.js';
import { type Couch, CouchError, type CouchSession, CouchUnreachable, isAdmin } from './couch.js';
import { readJson, refuse, sameOriginOnly, securityHeaders } from './edge.js';
import { HallReader, PortalRefusalError } from './halls.js';
import { followHall } from './live.js';
import { parsePublish, publishToHalls, setMaxDownloads } from './publish.js';
import { PORTAL_COOKIE, PortalSessions } from './sessions.js';
import { hallDbName } from '../../sync/central-link.js';

export interface PortalDeps {
  config: PortalConfig;
  couch: Couch;
  now?: () => number;
  /** Serves the built page (main.ts); tests of the API leave it out. */
  staticFiles?: (app: Hono<PortalEnv>) => void;
  /** Ping interval of the live stream (tests shorten it). */
  pingMs?: number;
  log?: (line: string) => void;
}

export type PortalEnv = { Variables: { session: CouchSession; token: string } };

const ID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ - (at most 64)');
const HALL = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -');

const signInSchema = z.strictObject({ name: z.string().min(1).max(200), password: z.string().min(1).max(1_000) });
const publishSchema = z.strictObject({
  exam: z.strictObject({ name: z.string().min(1).max(255), text: z.string() }),
  roster: z.strictObject({ name: z.string().min(1).max(255), text: z.string() }),
  halls: z
    .array(HALL)
    .min(1, 'choose at least one hall')
    .max(200)
    .refine((h) => new Set(h).size === h.length, 'a hall is named twice'),
});
const maxDownloadsSchema = z.strictObject({
  maxDownloads: z.number().int().min(0).max(100),
  studentIds: z.array(ID).min(1).max(2_000).optional(),
});

export function buildPortalApp(deps: PortalDeps): { app: Hono<PortalEnv>; sessions: PortalSessions } {
  const { config, couch } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const sessions = new PortalSessions(config.sessionIdleMinutes * 60_000, now);
  const reader = new HallReader(couch, {
    halls: config.halls,
    thresholds: { staleSeconds: config.staleSeconds, offlineSeconds: config.offlineSeconds },
    now,
  });
  const secure = config.origin.startsWith('https:');
  const app = new Hono<PortalEnv>();

  app.use('*', securityHeaders(secure));
  app.use('/api/*', sameOriginOnly(config.origin));

  const info = (s: CouchSession): SessionInfo => ({ name: s.name, roles: s.roles, admin: isAdmin(s) });

  app.post('/api/session', async (c) => {
    const body = await readJson(c, signInSchema, 8 * 1024);
    if (!body.ok) return body.response;
    const result = await couch.signIn(body.value.name, body.value.password);
    if (!result.ok) {
      if (result.status === 401) return refuse(c, 'wrong-credentials');
      return refuse(c, 'central-refused', `${result.status} ${result.reason}`);
    }
    const token = sessions.start(result.session);
    setCookie(c, PORTAL_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure });
    return c.json(info(result.session));
  });

  // Everything below needs a session.
  const needSession = async (c: Context<PortalEnv>, next: () => Promise<void>) => {
    const token = getCookie(c, PORTAL_COOKIE);
    const session = token === undefined ? undefined : sessions.touch(token);
    if (token === undefined || !session) return refuse(c, 'unauthenticated');
    c.set('session', session);
    c.set('token', token);
    await next();
  };
  app.use('/api/session', async (c, next) => (c.req.method === 'POST' ? next() : needSession(c, next)));
  for (const path of ['/api/overview', '/api/halls/*', '/api/publish', '/api/live']) app.use(path, needSession);

  const needAdmin = (c: Context<PortalEnv>) =>
    isAdmin(c.var.session) ? undefined : refuse(c, 'admin-only', `${c.var.session.name} is not a CouchDB admin`);

  app.get('/api/session', (c) => c.json(info(c.var.session)));

  app.delete('/api/session', async (c) => {
    const ended = sessions.end(c.var.token);
    if (ended) await couch.signOut(ended);
    deleteCookie(c, PORTAL_COOKIE, { path: '/', secure });
    return c.json({ ok: true });
  });

  app.get('/api/overview', async (c) => c.json(await reader.overview(c.var.session)));

  const params = (c: Context<PortalEnv>) => {
    const hall = HALL.safeParse(c.req.param('hall'));
    const exam = ID.safeParse(c.req.param('exam'));
    if (!hall.success) return { ok: false as const, response: refuse(c, 'unknown-hall', c.req.param('hall')) };
    if (c.req.param('exam') !== undefined && !exam.success)
      return { ok: false as const, response: refuse(c, 'unknown-exam', c.req.param('exam')) };
    return { ok: true as const, hall: hall.data, exam: exam.data ?? '' };
  };

  app.get('/api/halls/:hall/exams/:exam/examinees', async (c) => {
    const p = params(c);
    if (!p.ok) return p.response;
    return c.json(await reader.examinees(c.var.session, p.hall, p.exam));
  });

  app.post('/api/halls/:hall/exams/:exam/max-downloads', async (c) => {
    const p = params(c);
    if (!p.ok) return p.response;
    const denied = needAdmin(c);
    if (denied) return denied;
    const body = await readJson(c, maxDownloadsSchema, 256 * 1024);
    if (!body.ok) return body.response;
    const { maxDownloads, studentIds } = body.value;
    return c.json(await setMaxDownloads(couch, reader, c.var.session, p.hall, p.exam, maxDownloads, studentIds));
  });

  app.post('/api/publish', async (c) => {
    const denied = needAdmin(c);
    if (denied) return denied;
    const body = await readJson(c, publishSchema, config.maxUploadBytes);
    if (!body.ok) return body.response;
    const request: PublishRequest = body.value;
    const parsed = parsePublish(request);
    if (!parsed.ok) return refuse(c, 'import-failed', `${parsed.errors.length} error(s)`, { errors: parsed.errors });
    const result = await publishToHalls(couch, reader, c.var.session, parsed, request.halls);
    log(`portal: ${c.var.session.name} published ${result.examId} to ${request.halls.join(', ')}`);
    return c.json(result);
  });

  app.get('/api/halls/:hall/collect', async (c) => {
    const p = params(c);
    if (!p.ok) return p.response;
    const examParam = c.req.query('exam');
    const exam = examParam === undefined ? undefined : ID.safeParse(examParam);
    if (exam && !exam.success) return refuse(c, 'unknown-exam', examParam);
    await reader.readableHall(c.var.session, p.hall);
    if (exam) await reader.knownExam(c.var.session, p.hall, exam.data);
    const download = await collectDownload(couch.database(c.var.session, hallDbName(p.hall)), p.hall, exam?.data);
    return new Response(download.body, {
      headers: {
        'content-type': 'application/gzip',
        'content-disposition': `attachment; filename="${download.fileName}"`,
        'x-collect-submissions': String(download.submissions),
        'x-collect-written': String(download.written),
        'x-collect-missing': String(download.missing),
        'x-collect-mismatched': String(download.mismatched),
        'cache-control': 'no-store',
      },
    });
  });

  app.get('/api/live', async (c) => {
    const session = c.var.session;
    const token = c.var.token;
    const { ids } = await reader.hallIds(session);
    const readable: string[] = [];
    for (const id of ids) if ((await reader.access(session, id)) === 'ok') readable.push(id);
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      stream.onAbort(() => stop.abort());
      let ended = false;
      const sessionEnded = () => {
        if (ended) return;
        ended = true;
        sessions.end(token);
        void stream.writeSSE({ event: 'session-ended', data: '{}' }).finally(() => stop.abort());
      };
      for (const hallId of readable) {
        void followHall(
          couch,
          session,
          hallId,
          stop.signal,
          (changed) => void stream.writeSSE({ event: 'hall-changed', data: JSON.stringify(changed) }),
          sessionEnded,
        );
      }
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ halls: readable }) });
      while (!stop.signal.aborted) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, deps.pingMs ?? 15_000);
          stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
        if (!stop.signal.aborted) await stream.writeSSE({ event: 'ping', data: JSON.stringify({ at: now() }) });
        if (sessions.touch(token) === undefined) sessionEnded();
      }
    });
  });

  deps.staticFiles?.(app);

  app.notFound((c) => refuse(c, 'not-found', `${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => {
    if (err instanceof PortalRefusalError) return refuse(c, err.code, err.detail);
    if (err instanceof CouchUnreachable) return refuse(c, 'central-unavailable', err.message);
    if (err instanceof CouchError || typeof (err as { status?: unknown }).status === 'number') {
      const status = err instanceof CouchError ? err.status : (err as unknown as { status: number }).status;
      const reason = err instanceof CouchError ? err.reason : err.message;
      if (status === 401) {
        const token = getCookie(c, PORTAL_COOKIE);
        if (token !== undefined) sessions.end(token);
        return refuse(c, 'unauthenticated', 'the CouchDB session has ended: sign in again');
      }
      if (status === 403) return refuse(c, 'admin-only', reason);
      if (status === 404) return refuse(c, 'not-found', reason);
      return refuse(c, 'central-refused', `${status} ${reason}`);
    }
    log(`portal: unexpected error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return refuse(c, 'internal');
  });

  return { app, sessions };
}

/**
 * Builds the appliance's HTTP app from its dependencies. It never listens (main.ts does), so
 * tests drive it with app.request().
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { examineeRoutes } from './http/examinee-routes.js';
import { proctorRoutes } from './http/proctor-routes.js';
import { syncRoutes } from './http/sync-routes.js';
import type { Services } from './services.js';
import { discardRefusedBodies } from './http/discard-unread.js';
import { APP_CSP, securityHeaders, styleHash } from './http/security-headers.js';
import { paceUploads } from './http/upload-body.js';
import { sendRefusal } from './http/responses.js';
import { rawPublicKey } from './crypto/receipts.js';
import { StorageUnavailableError } from './store/storage-problems.js';
import type { SyncStatus } from '../../domain/sync-status.js';

export interface AppDeps {
  services: Services;
  /** Version of this appliance (package.json). */
  version: string;
  /** What is served outside /api: the built PWA, or a page saying to build it. */
  client: ClientPages;
  log: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** Strict-Transport-Security max-age when the app is served over HTTPS (undefined: HTTP). */
  hstsMaxAgeSeconds?: number | undefined;
}

/**
 * The examinee app and proctor dashboard: the files of client/dist (examinee app at /, dashboard
 * at /proctor/), or, before the first `npm run build`, a placeholder page at /.
 */
export type ClientPages = { kind: 'built'; files: MiddlewareHandler } | { kind: 'placeholder'; html: string };

export function buildApp(deps: AppDeps): Hono {
  const { examDay, store, monitor, presence } = deps.services;
  const app = new Hono();
  // Requests in flight, for background work to wait out (an event stream until its first answer).
  app.use('*', async (_c, next) => {
    const end = deps.services.foreground.begin();
    try {
      await next();
    } finally {
      end();
    }
  });
  app.use('*', paceUploads(deps.services.uploadPace));
  app.use('*', discardRefusedBodies);
  app.use('*', securityHeaders({ hstsMaxAgeSeconds: deps.hstsMaxAgeSeconds }));

  app.get('/api/health', (c) => {
    const healthy = !store.journal.broken;
    // Degraded: a storage fault the appliance survives (an index batch being retried, a blob
    // fsync that failed), reported while it lasts; still 200, since the box goes on serving.
    const problems = store.problems;
    return c.json(
      {
        status: healthy ? (problems.length > 0 ? 'degraded' : 'ok') : 'storage-failed',
        problems,
        applianceId: store.applianceId,
        hallId: store.hallId,
        version: deps.version,
        time: new Date(store.clock.now()).toISOString(),
        clock: { trusted: deps.services.clockTrust.trusted, source: deps.services.clockTrust.status().source },
        exams: store.projection.exams.size,
        // For the doctor: the disk the snapshots of exams not over yet still need.
        snapshots: { stillNeededBytes: monitor.snapshotsStillNeeded().bytes },
        // Event streams open now (capped per session and per address: PROCTOR_STREAMS_PER_*).
        streams: deps.services.streams.count(),
        // The sync with the central server; refused: documents it refused, kept until it takes them.
        sync: syncSummary(deps.services.sync.status()),
      },
      healthy ? 200 : 503,
    );
  });

  app.get('/api/time', (c) => {
    const now = store.clock.now();
    c.header('cache-control', 'no-store');
    // trusted: NTP-synchronised, or confirmed or set by a chief proctor (source says which).
    const { trusted, source } = deps.services.clockTrust.status();
    return c.json({ now, iso: new Date(now).toISOString(), trusted, source });
  });

  app.get('/api/receipt-key', (c) =>
    c.json({
      applianceId: store.applianceId,
      publicKey: rawPublicKey(store.receiptSigner.publicKey),
      pem: store.secrets.value.receiptPublicKeyPem,
    }),
  );

  app.route('/api/proctor', proctorRoutes({ ...deps.services, clock: store.clock }));
  app.route('/api/sync', syncRoutes(deps.services));
  app.route(
    '/api',
    examineeRoutes({
      examDay,
      presence,
      monitor,
      resumeCodes: deps.services.resumeCodes,
      streams: deps.services.streams,
    }),
  );

  const client = deps.client;
  if (client.kind === 'built') {
    // An unknown /api/ address is an API 404, never a file.
    app.on(['GET', 'HEAD'], '*', (c, next) => (c.req.path.startsWith('/api/') ? next() : client.files(c, next)));
  } else {
    // The placeholder's one inline <style>, allowed by its hash; nothing else inline.
    const css = /<style>([\s\S]*?)<\/style>/.exec(client.html)?.[1] ?? '';
    const csp = APP_CSP.replace("style-src 'self'", `style-src 'self' ${styleHash(css)}`);
    app.get('/', (c) => {
      c.header('content-security-policy', csp);
      return c.html(client.html);
    });
  }

  app.notFound((c) => sendRefusal(c, 'not-found', `${c.req.method} ${new URL(c.req.url).pathname}`));

  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) return sendRefusal(c, 'bad-request', err.message);
    // A storage fault the request met: nothing was acknowledged; the client may send it again.
    if (err instanceof StorageUnavailableError) {
      deps.log('error', `${c.req.method} ${c.req.path}: answered 503 ${err.code}: ${err.message}`);
      return sendRefusal(c, err.code);
    }
    deps.log(
      'error',
      `${c.req.method} ${c.req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return c.json(
      {
        error: {
          code: 'internal-error',
          message: 'Something went wrong on the appliance. Try again; your answers are kept on your device.',
        },
      },
      500,
    );
  });

  return app;
}

/** What the health answer says of the sync (the Sync status tab has the rest). */
function syncSummary(s: SyncStatus): { state: SyncStatus['state']; lastSuccessAt: string | null; refused: number } {
  return { state: s.state, lastSuccessAt: s.lastSuccessAt, refused: s.refusedCount };
}

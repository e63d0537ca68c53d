/**
 * Starts the appliance: reads the configuration, opens storage (replaying the journal), seeds
 * the demo on a first start, checks that storage takes a durable write, listens (HTTPS and the
 * onboarding page when on), prints where to go, tells systemd it is ready (READY=1, then
 * WATCHDOG=1 while healthy), advertises itself over mDNS, starts the sync with the central server
 * when configured, and shuts down cleanly on SIGTERM/SIGINT (STOPPING=1, mDNS goodbyes, sync
 * stopped, storage closed).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { createAdaptorServer, serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../domain/clock.js';
import { buildApp, type ClientPages } from './app.js';
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js';
import { seedDemoOnce, seedDemoProctorsOnce } from './demo.js';
import type { ExamDay } from './exam-day.js';
import { DEMO_PROCTORS } from './proctors/accounts.js';
import { WorkerAnswerFileChecker } from './answer-files/checker.js';
import type { WorkerPriority } from './resume-codes.js';
import { createServices } from './services.js';
import { createLog } from './log.js';
import { clientFiles, isClientBuilt } from './http/static-files.js';
import { HallStore } from './store/hall-store.js';
import { CertificateKeeper, type TlsMaterial } from './tls/index.js';
import { onboardingApp } from './tls/onboarding.js';
import { ClockTrust } from './time/clock-trust.js';
import { createHallSync } from './hall-sync-wiring.js';
import { advertise, type Advertisement } from './discovery/index.js';
import { createNotifier, startWatchdog } from './systemd/notify.js';
import { checkStorage } from './systemd/storage-check.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * Connections waiting to be accepted. At time-up a hall's laptops all connect at once to submit;
 * past Node's default of 511 the kernel drops their SYNs and each such device waits a second for
 * TCP to try again (bench:hall saw 525 of 1,000 wait so). The kernel caps it at
 * net.core.somaxconn (4096 on Debian 12 and Raspberry Pi OS).
 */
const LISTEN_BACKLOG = 4096;
export const APPLIANCE_VERSION = (
  JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

const systemClock: Clock = { now: () => Date.now() };
/** The built PWA (`npm run build`), and the page served at / while there is none. */
const CLIENT_DIST = path.join(ROOT, 'client', 'dist');
const PLACEHOLDER_PAGE = path.join(ROOT, 'appliance', 'src', 'http', 'placeholder.html');
const BUILD_HINT = 'The examinee app and proctor dashboard are not built (no client/dist): run `npm run build`.';

/** The addresses people in the hall can use. */
function urls(config: Config, port: number, scheme: 'http' | 'https' = 'http'): string[] {
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const defaultPort = scheme === 'https' ? 443 : 80;
  const at = (host: string) => `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}/`;
  if (!wildcard) return [at(config.host.includes(':') ? `[${config.host}]` : config.host)];
  const out = [at('127.0.0.1')];
  if (scheme === 'https') out.push(at(`${config.applianceName}.local`));
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') out.push(at(a.address));
  }
  return out;
}

/** Listens with `serve` and resolves with the port once listening. */
function listening(start: (ready: (info: AddressInfo) => void) => void): Promise<number> {
  return new Promise((resolve) => start((info) => resolve(info.port)));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLog(config.logLevel);
  log('info', `starting proctor appliance ${APPLIANCE_VERSION}: ${describeConfig(config)}`);
  const notifier = createNotifier(process.env, (line) => log('warn', line));
  // The appliance's clock: the system's plus a chief proctor's offset, trusted or not (see clock-trust.ts).
  const clock = await ClockTrust.open({
    base: systemClock,
    mode: config.clockTrustMode,
    dataDir: config.dataDir,
    log,
  });
  clock.watch();
  const store = await HallStore.open({
    dataDir: config.dataDir,
    clock,
    hallId: config.hallId,
    log: (l) => log('info', l),
  });
  const demo = config.demo ? await seedDemoOnce(store, systemClock, config.demoStartMinutes) : undefined;
  // The sync runs in this process: it shares the open LevelDB (one process may hold it) and its
  // pulls reach the projection at once (docs/sync.md).
  let onNewExams: (examIds: string[]) => void = () => undefined;
  const sync = createHallSync(store, config, {
    clock,
    log,
    onNewExams: (ids) => onNewExams(ids),
  });
  const answerFileChecker = new WorkerAnswerFileChecker({
    onWorkerError: (err) => log('warn', `${err.message}; its answer files are checked on the main thread`),
  });
  const onBackgroundPriority = (p: WorkerPriority) => {
    if (p.policy === 'idle') return;
    log(
      'warn',
      `resume codes: triples are prepared at ${p.policy} priority, not SCHED_IDLE (${p.reason ?? 'unknown'})`,
    );
  };
  const services = createServices(
    store,
    { ...config, clockTrust: clock, answerFileChecker, onBackgroundPriority },
    sync,
  );
  onNewExams = (ids) => {
    for (const examId of ids) {
      log('info', `sync: exam ${examId} arrived from the central server`);
      void services.resumeCodes.prepare(examId);
    }
  };
  const demoProctors = config.demo ? await seedDemoProctorsOnce(services.accounts, new Date()) : [];
  const examDay = services.examDay;
  const client: ClientPages = isClientBuilt(CLIENT_DIST)
    ? { kind: 'built', files: clientFiles(CLIENT_DIST) }
    : { kind: 'placeholder', html: await readFile(PLACEHOLDER_PAGE, 'utf8') };
  if (client.kind === 'placeholder') log('warn', BUILD_HINT);
  const app = buildApp({ services, version: APPLIANCE_VERSION, client, log });
  // Presence: examinees not heard from within the timeout become "disconnected".
  const presenceTimer = setInterval(
    () => services.presence.tick(),
    Math.min(5_000, config.presenceTimeoutSeconds * 250),
  );
  presenceTimer.unref();
  // Resume-code triples cost PBKDF2 time: make them in the lobby, not at the synchronised start.
  for (const examId of store.projection.exams.keys()) void services.resumeCodes.prepare(examId);

  // READY=1 only for a box that can keep what it acknowledges.
  const storage = await checkStorage(config.dataDir);
  if (!storage.ok) throw new Error(`storage check failed: ${storage.reason}`);
  const healthy = async () => {
    if (store.journal.broken) return false;
    const check = await checkStorage(config.dataDir);
    if (!check.ok) log('error', `storage check failed: ${check.reason}`);
    return check.ok;
  };
  let stopWatchdog = () => {};
  let advertisement: Advertisement | undefined;

  // HTTPS (docs/https-and-time.md): the certificate of the mode, kept current while the box runs.
  const keeper =
    config.httpsMode === 'off'
      ? undefined
      : new CertificateKeeper({ ...config, httpsMode: config.httpsMode }, { now: () => clock.now(), log });
  const tls: TlsMaterial | undefined = await keeper?.check();
  const server = tls
    ? createAdaptorServer({
        fetch: app.fetch,
        createServer: createHttpsServer,
        serverOptions: { cert: tls.certPem, key: tls.keyPem },
      })
    : createAdaptorServer({ fetch: app.fetch });
  server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  const appPort = await new Promise<number>((resolve) => {
    const port = () => resolve((server.address() as AddressInfo).port);
    if (server.listening) port();
    else server.once('listening', port);
  });
  if (keeper) {
    // A renewed certificate (daily check, new address, clock set right) is swapped in without a restart.
    keeper.watch((m) => {
      (server as HttpsServer).setSecureContext({ cert: m.certPem, key: m.keyPem });
      log('info', `tls: now serving the certificate valid until ${m.notAfter.toISOString()}`);
    });
    clock.onChange(() => keeper.recheck('the clock changed'));
  }
  // With HTTPS on, plain HTTP serves the onboarding page (the CA) and sends everything else to HTTPS.
  const onboarding = tls
    ? onboardingApp({ ca: () => keeper?.material?.ca, httpsPort: () => appPort, applianceName: config.applianceName })
    : undefined;
  let httpServer: ReturnType<typeof serve> | undefined;
  const httpPort = onboarding
    ? await listening((ready) => {
        httpServer = serve({ fetch: onboarding.fetch, hostname: config.host, port: config.httpPort }, ready);
      })
    : undefined;

  {
    const scheme = tls ? 'https' : 'http';
    const base = urls(config, appPort, scheme)[0]!;
    const lines = [
      `Proctor appliance ready (appliance ${store.applianceId}, hall ${config.hallId}, data in ${config.dataDir})`,
    ];
    for (const u of urls(config, appPort, scheme)) lines.push(`  Examinee app:  ${u}`);
    lines.push(`  Proctor app:   ${base}proctor/`);
    lines.push(`  Health:        ${base}api/health`);
    if (httpPort !== undefined) {
      const label = tls?.mode === 'local-ca' ? 'Onboarding (install the hall CA)' : 'Plain HTTP (redirects to HTTPS)';
      lines.push(`  ${label}: ${urls(config, httpPort)[0]}`);
      if (tls?.ca) lines.push(`    CA SHA-256 fingerprint: ${tls.ca.fingerprint}`);
    } else if (config.host !== '127.0.0.1' && config.host !== 'localhost' && config.host !== '::1')
      lines.push(
        '  HTTPS is off (PROCTOR_HTTPS_MODE=off): devices on the hall network cannot reload the exam offline.',
      );
    if (!clock.trusted)
      lines.push('  The clock is not trusted (no NTP sync yet): a chief proctor must confirm it before exams open.');
    if (client.kind === 'placeholder') lines.push(`  ${BUILD_HINT}`);
    void printExams(store, examDay, demo !== undefined, demoProctors.length > 0 || config.demo).then((extra) => {
      process.stdout.write(`${[...lines, ...extra].join('\n')}\n`);
      // Machine-readable lines for scripts and tests (READY last).
      if (httpPort !== undefined) process.stdout.write(`HTTP port=${httpPort}\n`);
      process.stdout.write(`READY port=${appPort}\n`);
    });
    void notifier.notify(`READY=1\nSTATUS=Serving hall ${config.hallId} on port ${appPort}\nMAINPID=${process.pid}`);
    if (notifier.watchdogIntervalMs !== undefined)
      stopWatchdog = startWatchdog({ notifier, intervalMs: notifier.watchdogIntervalMs, check: healthy, log });
    const loopbackOnly = config.host === '127.0.0.1' || config.host === '::1' || config.host === 'localhost';
    if (config.mdns && loopbackOnly)
      log(
        'info',
        `mDNS: not advertising: the appliance listens on ${config.host} only (PROCTOR_HOST=0.0.0.0 for the hall)`,
      );
    if (config.mdns && !loopbackOnly) {
      // The service type says what a browser finds on the port: _https._tcp with HTTPS on, else _http._tcp.
      advertisement = advertise({
        name: config.applianceName,
        applianceId: store.applianceId,
        hallId: config.hallId,
        version: APPLIANCE_VERSION,
        scheme,
        port: appPort,
        interfaceAddress: config.mdnsInterface === 'all' ? undefined : config.mdnsInterface,
        onError: (line) => log('warn', line),
        onInfo: (line) => log('info', line),
      });
      log(
        'info',
        `mDNS: advertising ${config.applianceName}.local (_proctor._tcp, _${scheme}._tcp) on port ${appPort}`,
      );
    }
    void sync.start();
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    const stoppingSent = notifier.notify('STOPPING=1');
    stopWatchdog();
    clearInterval(presenceTimer);
    keeper?.stop();
    clock.stop();
    httpServer?.close();
    server.close();
    // mDNS goodbyes first (a second at most), so browsers in the hall drop the box at once.
    const withdrawn = advertisement
      ? Promise.race([advertisement.withdraw(), new Promise((resolve) => setTimeout(resolve, 1_000))])
      : Promise.resolve();
    void withdrawn
      .then(() => sync.stop())
      .then(() => store.close())
      .then(() => stoppingSent)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log('error', `closing storage: ${String(err)}`);
          process.exit(1);
        },
      );
  };
  // PouchDB's HTTP client (node-fetch) has paths that leave a failed request's promise
  // unhandled when the link to the central server drops mid-request (sync/hall-sync.ts avoids the
  // one the tests met); a lost link must not stop the exam hall. Anything else still ends the
  // process, as Node does by default.
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && reason.name === 'FetchError') {
      log('warn', `sync: a request to the central server failed: ${reason.message}`);
      return;
    }
    throw reason;
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** What the person who started the appliance needs: exams, times, demo credentials. */
async function printExams(
  store: HallStore,
  examDay: ExamDay,
  demoJustSeeded: boolean,
  demoProctors: boolean,
): Promise<string[]> {
  const lines: string[] = [];
  if (demoProctors) {
    lines.push(
      '  Demo proctors (username / password; remove them before a real exam with `npm run appliance -- proctor remove`):',
    );
    for (const p of DEMO_PROCTORS) lines.push(`    ${p.username} / ${p.password}   (${p.role})`);
  }
  for (const exam of store.projection.exams.values()) {
    const secret = await examDay.packages.secret(exam.doc.examId);
    lines.push(
      `  Exam "${exam.doc.title}" (${exam.doc.examId}): starts ${exam.doc.scheduledStart}, ${exam.doc.durationMinutes} min, ` +
        `downloads ${exam.doc.downloadWindow.opens} – ${exam.doc.downloadWindow.closes}; exam password ${secret.password}`,
    );
  }
  if (demoJustSeeded) lines.push('  Demo exam imported (it starts a few minutes from now).');
  const demo = store.projection.exams.get('demo-physics-101');
  if (demo) {
    lines.push('  Demo examinees (student id / access code): see examples/roster-demo.csv, e.g.');
    const csv = await readFile(path.join(ROOT, 'examples', 'roster-demo.csv'), 'utf8').catch(() => '');
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    const cols = (header ?? '').split(',');
    const sid = cols.indexOf('studentId');
    const code = cols.indexOf('accessCode');
    const name = cols.indexOf('name');
    for (const row of rows.slice(0, 3)) {
      const cells = row.split(',');
      lines.push(`    ${cells[sid] ?? '?'} / ${cells[code] ?? '?'}   (${cells[name] ?? ''})`);
    }
  }
  return lines;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `The appliance could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});

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
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../domain/clock.js';
import { buildApp, type ClientPages } from './app.js';
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js';
import { DEMO_EXAM_ID, readDemo, seedDemoOnce, seedDemoProctorsOnce } from './demo.js';
import type { ExamDay } from './exam-day.js';
import { DEMO_PROCTORS } from './proctors/accounts.js';
import { WorkerAnswerFileChecker } from './answer-files/checker.js';
import type { ResumeCodes, WorkerPriority } from './resume-codes.js';
import { createServices, type Services } from './services.js';
import { createLog, type Log } from './log.js';
import { clientFiles, isClientBuilt } from './http/static-files.js';
import { ConnectionCaps, serverTimeouts } from './http/connection-caps.js';
import { HallStore } from './store/hall-store.js';
import { CertificateKeeper, type TlsMaterial } from './tls/index.js';
import { onboardingApp } from './tls/onboarding.js';
import { ClockTrust } from './time/clock-trust.js';
import { createHallSync } from './hall-sync-wiring.js';
import { advertise, type Advertisement } from './discovery/index.js';
import { createNotifier, startWatchdog, type Notifier } from './systemd/notify.js';
import { checkStorage } from './systemd/storage-check.js';
import { inspectDataStorage, volatileDataMessage } from './systemd/volatile-storage.js';

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

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost';

/** The Node.js line the appliance is built and tested for (package.json engines, .nvmrc). */
const SUPPORTED_NODE_MAJOR = 24;

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLog(config.logLevel);
  log('info', `starting proctor appliance ${APPLIANCE_VERSION}: ${describeConfig(config)}`);
  if (Number(process.versions.node.split('.')[0]) < SUPPORTED_NODE_MAJOR)
    log('warn', `Node.js ${process.versions.node} is not supported: the appliance runs on Node.js 24 LTS (README)`);
  const notifier = createNotifier(process.env, (line) => log('warn', line));
  await refuseVolatileData(config, notifier, log);
  const { clock, store } = await openStorage(config, log);
  const demo = config.demo ? await seedDemoOnce(store, systemClock, config.demoStartMinutes) : undefined;
  const { services, sync } = startServices(config, store, clock, log);
  const demoProctors = config.demo ? await seedDemoProctorsOnce(services.accounts, new Date()) : [];
  const client = await clientPages(log);
  const app = buildApp({
    services,
    version: APPLIANCE_VERSION,
    client,
    log,
    hstsMaxAgeSeconds: config.httpsMode === 'off' ? undefined : config.hstsMaxAgeSeconds,
  });
  const presenceTimer = startBackgroundWork(config, services, log);
  // READY=1 only for a box that can keep what it acknowledges.
  const storage = await checkStorage(config.dataDir);
  if (!storage.ok) throw new Error(`storage check failed: ${storage.reason}`);
  const servers = await listen(config, app, clock, log);
  void startupLines(config, store, services.examDay, servers, client, {
    demoJustSeeded: demo !== undefined,
    demoProctors: demoProctors.length > 0 || config.demo,
    clockTrusted: clock.trusted,
  }).then((lines) => {
    process.stdout.write(`${lines.join('\n')}\n`);
    // Machine-readable lines for scripts and tests (READY last).
    if (servers.httpPort !== undefined) process.stdout.write(`HTTP port=${servers.httpPort}\n`);
    process.stdout.write(`READY port=${servers.appPort}\n`);
  });
  const stopWatchdog = tellSystemdReady(config, store, notifier, servers.appPort, log);
  const advertisement = advertiseOnMdns(config, store, servers, log);
  void sync.start();
  stopCleanlyOnSignals({ log, notifier, stopWatchdog, presenceTimer, clock, servers, advertisement, sync, store });
}

/** The configuration from the environment; a bad value ends the process with its message (exit 2). */
function readConfig(): Config {
  try {
    return loadConfig(process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Exit code of a refusal that no restart can cure (the unit's RestartPreventExitStatus=):
 * EX_CONFIG of sysexits.h.
 */
const EXIT_REFUSED = 78;

/**
 * Ends the process (EXIT_REFUSED, no READY=1) before anything is written when the data folder is
 * in memory, unless PROCTOR_ALLOW_VOLATILE_DATA says this is development.
 */
async function refuseVolatileData(config: Config, notifier: Notifier, log: Log): Promise<void> {
  const storage = await inspectDataStorage(config.dataDir);
  if (!storage.volatile) return;
  const message = volatileDataMessage(config.dataDir, storage);
  if (config.allowVolatileData) {
    log('warn', `PROCTOR_ALLOW_VOLATILE_DATA=true, so starting although ${message}`);
    return;
  }
  log('error', `refusing to start: ${message}`);
  // What `systemctl status` shows; then systemd sees the exit, never READY=1.
  await notifier.notify(
    `STATUS=Refused to start: the data folder ${config.dataDir} is on ${storage.fsType} (in memory)`,
  );
  process.exit(EXIT_REFUSED);
}

/** The clock (system time plus a chief proctor's offset, trusted or not) and the store on it. */
async function openStorage(config: Config, log: Log): Promise<{ clock: ClockTrust; store: HallStore }> {
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
    log: (l, level = 'info') => log(level, l),
  });
  return { clock, store };
}

type StartedSync = ReturnType<typeof createHallSync>;

/** The services over the store, and the sync with the central server wired to them. */
function startServices(
  config: Config,
  store: HallStore,
  clock: ClockTrust,
  log: Log,
): { services: Services; sync: StartedSync } {
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
  const withoutSync = createServices(store, { ...config, clockTrust: clock, answerFileChecker, onBackgroundPriority });
  // The sync runs in this process: it shares the open LevelDB (one process may hold it) and its
  // pulls reach the projection at once (docs/sync.md). Exams it brings get their resume codes.
  const sync = createHallSync(store, config, {
    clock,
    log,
    identity: { version: APPLIANCE_VERSION, clockTrusted: () => clock.trusted },
    onNewExams: (examIds) => {
      for (const examId of examIds) {
        log('info', `sync: exam ${examId} arrived from the central server`);
        prepareResumeCodes(withoutSync.resumeCodes, examId, log);
      }
    },
  });
  return { services: { ...withoutSync, sync }, sync };
}

/** The built PWA, or the page saying to build it. */
async function clientPages(log: Log): Promise<ClientPages> {
  if (isClientBuilt(CLIENT_DIST)) return { kind: 'built', files: clientFiles(CLIENT_DIST) };
  log('warn', BUILD_HINT);
  return { kind: 'placeholder', html: await readFile(PLACEHOLDER_PAGE, 'utf8') };
}

/** The presence timer, and resume-code triples for the exams there are. Returns the timer. */
function startBackgroundWork(config: Config, services: Services, log: Log): NodeJS.Timeout {
  // Presence: examinees not heard from within the timeout become "disconnected".
  const presenceTimer = setInterval(
    () => services.presence.tick(),
    Math.min(5_000, config.presenceTimeoutSeconds * 250),
  );
  presenceTimer.unref();
  // Resume-code triples cost PBKDF2 time: make them in the lobby, not at the synchronised start.
  for (const examId of services.store.projection.exams.keys()) prepareResumeCodes(services.resumeCodes, examId, log);
  return presenceTimer;
}

/**
 * Prepares an exam's resume-code triples in the background and logs when every examinee's are
 * ready ("resume codes: triples ready ..."): how a proctor's doctor, or bench:hall, sees that a
 * locked device can be resumed offline for the whole roster.
 */
function prepareResumeCodes(resumeCodes: ResumeCodes, examId: string, log: Log): void {
  const started = performance.now();
  resumeCodes.prepare(examId).then(
    ({ examinees, made }) =>
      log(
        'info',
        `resume codes: triples ready for all ${examinees} examinees of ${examId} ` +
          `(${made} prepared in ${Math.round((performance.now() - started) / 100) / 10} s)`,
      ),
    (err: unknown) =>
      log('error', `resume codes: preparing ${examId} failed: ${err instanceof Error ? err.message : String(err)}`),
  );
}

interface Servers {
  server: ReturnType<typeof createAdaptorServer>;
  appPort: number;
  /** The plain-HTTP onboarding server with HTTPS on. */
  httpServer?: ReturnType<typeof serve>;
  httpPort?: number;
  tls?: TlsMaterial;
  keeper?: CertificateKeeper;
}

/** Listens: HTTPS with the certificate of the mode (kept current), plus the onboarding page; or plain HTTP. */
async function listen(config: Config, app: Hono, clock: ClockTrust, log: Log): Promise<Servers> {
  const keeper =
    config.httpsMode === 'off'
      ? undefined
      : new CertificateKeeper(
          { ...config, httpsMode: config.httpsMode },
          { now: () => clock.now(), trusted: () => clock.trusted, log },
        );
  const tls: TlsMaterial | undefined = await keeper?.check();
  const limits = { perAddress: config.connectionsPerAddress, headersTimeoutMs: config.headersTimeoutSeconds * 1_000 };
  const timeouts = serverTimeouts(limits);
  const server = tls
    ? createAdaptorServer({
        fetch: app.fetch,
        createServer: createHttpsServer,
        serverOptions: { ...timeouts, cert: tls.certPem, key: tls.keyPem },
      })
    : createAdaptorServer({ fetch: app.fetch, serverOptions: timeouts });
  // One count per address over both servers: the onboarding page is no way around the cap.
  const connections = new ConnectionCaps(limits.perAddress, (line) => log('warn', line));
  connections.watch(server);
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
    // A certificate issued on an untrusted clock is issued again once the clock is trusted.
    keeper.followClock(clock);
  }
  if (!tls || !keeper) return { server, appPort };
  // With HTTPS on, plain HTTP serves the onboarding page (the CA) and sends everything else to HTTPS.
  const onboarding = onboardingApp({
    ca: () => keeper.material?.ca,
    names: () => keeper.material?.names ?? tls.names,
    httpsPort: () => appPort,
    applianceName: config.applianceName,
  });
  let httpServer: ReturnType<typeof serve> | undefined;
  const httpPort = await listening((ready) => {
    httpServer = serve(
      { fetch: onboarding.fetch, hostname: config.host, port: config.httpPort, serverOptions: timeouts },
      ready,
    );
    connections.watch(httpServer);
  });
  return { server, appPort, httpServer, httpPort, tls, keeper };
}

/** READY=1 to systemd, then the watchdog while storage is healthy. Returns what stops the watchdog. */
function tellSystemdReady(config: Config, store: HallStore, notifier: Notifier, appPort: number, log: Log): () => void {
  void notifier.notify(`READY=1\nSTATUS=Serving hall ${config.hallId} on port ${appPort}\nMAINPID=${process.pid}`);
  if (notifier.watchdogIntervalMs === undefined) return () => {};
  const healthy = async () => {
    if (store.journal.broken) return false;
    const check = await checkStorage(config.dataDir);
    if (!check.ok) log('error', `storage check failed: ${check.reason}`);
    return check.ok;
  };
  return startWatchdog({ notifier, intervalMs: notifier.watchdogIntervalMs, check: healthy, log });
}

/** Advertises the box over mDNS (PROCTOR_MDNS), unless it listens on loopback only. */
function advertiseOnMdns(config: Config, store: HallStore, servers: Servers, log: Log): Advertisement | undefined {
  if (!config.mdns) return undefined;
  if (isLoopback(config.host)) {
    log(
      'info',
      `mDNS: not advertising: the appliance listens on ${config.host} only (PROCTOR_HOST=:: or 0.0.0.0 for the hall)`,
    );
    return undefined;
  }
  // The service type says what a browser finds on the port: _https._tcp with HTTPS on, else _http._tcp.
  const scheme = servers.tls ? 'https' : 'http';
  const advertisement = advertise({
    name: config.applianceName,
    applianceId: store.applianceId,
    hallId: config.hallId,
    version: APPLIANCE_VERSION,
    scheme,
    port: servers.appPort,
    listenAddress: (servers.server.address() as AddressInfo).address,
    interfaceAddress: config.mdnsInterface === 'all' ? undefined : config.mdnsInterface,
    onError: (line) => log('warn', line),
    onInfo: (line) => log('info', line),
  });
  log(
    'info',
    `mDNS: advertising ${config.applianceName}.local (_proctor._tcp, _${scheme}._tcp) on port ${servers.appPort}`,
  );
  return advertisement;
}

/**
 * SIGTERM/SIGINT: STOPPING=1, timers and servers stopped, mDNS goodbyes, the sync stopped, storage
 * closed, then exit 0 (1 when closing storage failed).
 */
function stopCleanlyOnSignals(running: {
  log: Log;
  notifier: Notifier;
  stopWatchdog: () => void;
  presenceTimer: NodeJS.Timeout;
  clock: ClockTrust;
  servers: Servers;
  advertisement: Advertisement | undefined;
  sync: StartedSync;
  store: HallStore;
}): void {
  const { log, servers, advertisement } = running;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    const stoppingSent = running.notifier.notify('STOPPING=1');
    running.stopWatchdog();
    clearInterval(running.presenceTimer);
    servers.keeper?.stop();
    running.clock.stop();
    servers.httpServer?.close();
    servers.server.close();
    // mDNS goodbyes first (a second at most), so browsers in the hall drop the box at once.
    const withdrawn = advertisement
      ? Promise.race([advertisement.withdraw(), new Promise((resolve) => setTimeout(resolve, 1_000))])
      : Promise.resolve();
    void withdrawn
      .then(() => running.sync.stop())
      .then(() => running.store.close())
      .then(() => stoppingSent)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log('error', `closing storage: ${String(err)}`);
          process.exit(1);
        },
      );
  };
  keepRunningWhenTheCentralLinkDrops(log);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * PouchDB's HTTP client (node-fetch) has paths that leave a failed request's promise unhandled
 * when the link to the central server drops mid-request (sync/hall-sync.ts avoids the one the
 * tests met); a lost link must not stop the exam hall. Anything else still ends the process, as
 * Node does by default.
 */
function keepRunningWhenTheCentralLinkDrops(log: Log): void {
  process.on('unhandledRejection', (reason) => {
    if (reason instanceof Error && reason.name === 'FetchError') {
      log('warn', `sync: a request to the central server failed: ${reason.message}`);
      return;
    }
    throw reason;
  });
}

/** What the person who started the appliance needs: where to go, exams, times, demo credentials. */
async function startupLines(
  config: Config,
  store: HallStore,
  examDay: ExamDay,
  servers: Servers,
  client: ClientPages,
  shown: { demoJustSeeded: boolean; demoProctors: boolean; clockTrusted: boolean },
): Promise<string[]> {
  const { appPort, httpPort, tls } = servers;
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
  } else if (!isLoopback(config.host))
    lines.push('  HTTPS is off (PROCTOR_HTTPS_MODE=off): devices on the hall network cannot reload the exam offline.');
  if (!shown.clockTrusted)
    lines.push('  The clock is not trusted (no NTP sync yet): a chief proctor must confirm it before exams open.');
  if (client.kind === 'placeholder') lines.push(`  ${BUILD_HINT}`);
  return [...lines, ...(await examLines(store, examDay, shown.demoJustSeeded, shown.demoProctors))];
}

/** The exams with their times and passwords, and the demo's credentials. */
async function examLines(
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
    // The log is the box's journal: only the demo's password goes there; a chief reads a real
    // exam's on the dashboard (Exam info), and each look is an event.
    const password =
      exam.doc.examId === DEMO_EXAM_ID
        ? `exam password ${(await examDay.packages.secret(exam.doc.examId)).password}`
        : 'exam password on the dashboard (Exam info, chief proctors)';
    lines.push(
      `  Exam "${exam.doc.title}" (${exam.doc.examId}): starts ${exam.doc.scheduledStart}, ${exam.doc.durationMinutes} min, ` +
        `downloads ${exam.doc.downloadWindow.opens} – ${exam.doc.downloadWindow.closes}; ${password}`,
    );
  }
  if (demoJustSeeded) lines.push('  Demo exam imported (it starts a few minutes from now).');
  if (store.projection.exams.has(DEMO_EXAM_ID)) {
    lines.push('  Demo examinees (student id / access code): see examples/roster-demo.csv, e.g.');
    // The roster as every roster is read (csv-parse, domain/exam-import.ts).
    const roster = await readDemo().then(
      (demo) => demo.roster,
      () => [],
    );
    for (const e of roster.slice(0, 3)) lines.push(`    ${e.studentId} / ${e.accessCode}   (${e.name})`);
  }
  return lines;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `The appliance could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});

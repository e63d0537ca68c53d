/**
 * `npm run central`: a central server on this machine for trying the institution's side out —
 * pouchdb-server 4.2.0 (a CouchDB-protocol server on PouchDB and LevelDB) with real `_users`,
 * `_session`, `_security` and validate_doc_update, behind the guard of ./local-guard.ts. Not for
 * exams: production is Apache CouchDB 3 (docs/sync.md).
 *
 *   npm run central [-- --port 5984] [--host 127.0.0.1] [--data ./central-data]
 *
 * The admin: CENTRAL_USER (default `admin`) and CENTRAL_PASSWORD; without CENTRAL_PASSWORD a
 * password is generated on the first start and kept in `<data>/admin-password` (0600), so the
 * same one is printed at every start. Folder layout: `<data>/db/` (LevelDB, one folder per
 * database), `<data>/config.json` (pouchdb-server's configuration; it hashes the admin's
 * password in it at start), `<data>/log.txt` (its request log).
 * pouchdb-server itself listens on a free port of 127.0.0.1 only; the guard on --host/--port.
 * Stops on SIGINT or SIGTERM, and stops pouchdb-server with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalGuard } from './local-guard.js';

export interface Admin {
  name: string;
  password: string;
}

/** A free TCP port on 127.0.0.1 (pouchdb-server cannot be told port 0: it takes 0 for "unset"). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Where pouchdb-server's start script is (node_modules/pouchdb-server/bin/pouchdb-server). */
export function pouchdbServerBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');
}

/**
 * Writes `<dir>/config.json` for pouchdb-server: the one admin (in plain text; pouchdb-server
 * hashes it when it starts), the log file, and a cookie secret kept across restarts. Other
 * settings already in the file stay.
 */
async function writeConfig(dir: string, admin: Admin): Promise<string> {
  const file = path.join(dir, 'config.json');
  let config: Record<string, Record<string, unknown>> = {};
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as typeof config;
  } catch {
    // First start (or an unreadable file): begin afresh.
  }
  const auth = config.couch_httpd_auth ?? {};
  config.admins = { [admin.name]: admin.password };
  config.log = { ...config.log, file: path.join(dir, 'log.txt'), level: 'info' };
  config.couch_httpd_auth = { ...auth, secret: auth.secret ?? randomBytes(16).toString('hex') };
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

/**
 * Runs pouchdb-server's script in a node that ends when its standard input does: when this
 * process ends, however (even by SIGKILL), so does the pouchdb-server it started, and the
 * database folder's LevelDB locks are free for the next start. (`node -e <this> <bin> <args>`:
 * process.argv is [node, bin, ...args], which is what pouchdb-server's parser expects.)
 */
const OUTLIVE_NO_PARENT =
  "process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume(); require(process.argv[1]);";

export interface PouchdbServer {
  port: number;
  pid: number;
  /** Resolves when the process ends, however. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it wrote to stderr (the last 20,000 characters): its crash reports go there. */
  stderr(): string;
  /** SIGTERM to its PID, and wait for the end. */
  stop(): Promise<void>;
}

/**
 * Starts pouchdb-server (LevelDB in `<dir>/db`) on 127.0.0.1:`port` as a child process and
 * waits until it answers and knows the admin.
 */
export async function startPouchdbServer(options: { dir: string; port: number; admin: Admin }): Promise<PouchdbServer> {
  const { dir, port, admin } = options;
  await mkdir(path.join(dir, 'db'), { recursive: true, mode: 0o700 });
  const configFile = await writeConfig(dir, admin);
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', OUTLIVE_NO_PARENT, pouchdbServerBin(), '--port', String(port), '--host', '127.0.0.1'].concat([
      '--dir',
      path.join(dir, 'db'),
      '--config',
      configFile,
      '--no-stdout-logs',
      '--no-color',
    ]),
    // Its own process group: a Ctrl-C in the terminal reaches this process, which stops it.
    { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (ended = e));
  const stop = async () => {
    if (ended === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
  };
  const token = Buffer.from(`${admin.name}:${admin.password}`).toString('base64');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (ended !== undefined)
      throw new Error(`pouchdb-server exited at start (code ${ended.code}, signal ${ended.signal}):\n${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/_session`, { headers: { authorization: `Basic ${token}` } });
      const body = (await res.json()) as { userCtx?: { roles?: string[] } };
      if (res.ok && body.userCtx?.roles?.includes('_admin')) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pouchdb-server did not answer on 127.0.0.1:${port} within 30 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, pid: child.pid!, exited, stderr: () => stderr, stop };
}

export interface LocalCentral {
  /** The guard's URL: what boxes and the CLI use. */
  url: string;
  port: number;
  pouchdb: PouchdbServer;
  close(): Promise<void>;
}

/** pouchdb-server on a free internal port, and the guard in front of it on `host:port`. */
export async function startLocalCentral(options: {
  dir: string;
  host?: string;
  port?: number;
  admin: Admin;
}): Promise<LocalCentral> {
  const pouchdb = await startPouchdbServer({ dir: options.dir, port: await freePort(), admin: options.admin });
  let guard;
  try {
    guard = await startLocalGuard({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      backendPort: pouchdb.port,
    });
  } catch (err) {
    await pouchdb.stop();
    throw err;
  }
  return {
    url: guard.url,
    port: guard.port,
    pouchdb,
    close: async () => {
      await guard.close();
      await pouchdb.stop();
    },
  };
}

/** The admin's password: CENTRAL_PASSWORD, or the one kept in `<dir>/admin-password` (made once). */
async function adminPassword(dir: string, fromEnv: string | undefined): Promise<{ password: string; source: string }> {
  if (fromEnv !== undefined && fromEnv !== '') return { password: fromEnv, source: 'CENTRAL_PASSWORD' };
  const file = path.join(dir, 'admin-password');
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept !== '') return { password: kept, source: file };
  } catch {
    // First start.
  }
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return { password, source: `${file} (new)` };
}

const USAGE = `Usage: npm run central [-- --port 5984] [--host 127.0.0.1] [--data ./central-data]
A local central server for trying things out (pouchdb-server 4.2.0); production is CouchDB 3.
Admin: CENTRAL_USER (default admin), CENTRAL_PASSWORD (default: generated, kept in <data>/admin-password).
`;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '5984' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string', default: 'central-data' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`--port ${values.port}: a TCP port, 0 to 65535 (0: a free one)\n`);
    process.exit(2);
  }
  const dir = path.resolve(values.data);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = env.CENTRAL_USER !== undefined && env.CENTRAL_USER !== '' ? env.CENTRAL_USER : 'admin';
  const { password, source } = await adminPassword(dir, env.CENTRAL_PASSWORD);
  let central: LocalCentral;
  try {
    central = await startLocalCentral({ dir, host: values.host, port, admin: { name, password } });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `Port ${port} on ${values.host} is in use (another CouchDB?): npm run central -- --port <another>\n`
        : `${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
  const shownPassword = source === 'CENTRAL_PASSWORD' ? '(from CENTRAL_PASSWORD)' : `${password}   (kept in ${source})`;
  const exportPassword = source === 'CENTRAL_PASSWORD' ? '' : ` CENTRAL_PASSWORD='${password}'`;
  process.stdout.write(
    [
      'Local central server: pouchdb-server 4.2.0 behind a guard, for trying things out, not for exams',
      '(production: Apache CouchDB 3, see docs/sync.md).',
      `  URL:      ${central.url}/`,
      `  admin:    ${name}, password ${shownPassword}`,
      `  data:     ${dir} (request log: ${path.join(dir, 'log.txt')})`,
      `  PID:      ${process.pid} (Ctrl-C or SIGTERM stops it and its pouchdb-server, PID ${central.pouchdb.pid})`,
      ...(values.host === '127.0.0.1' || values.host === 'localhost' || values.host === '::1'
        ? []
        : ['  Note: reachable beyond this machine over plain HTTP: passwords cross the network in clear.']),
      '',
      'Next, in another terminal (the hall: demo-hall, the appliance’s default PROCTOR_HALL_ID):',
      `  export CENTRAL_URL=${central.url} CENTRAL_USER=${name}${exportPassword}`,
      '  npm run sync -- add-hall --hall demo-hall',
      '  npm run sync -- add-appliance --hall demo-hall --appliance <the box’s id: applianceId in its GET /api/health>',
      '  # start the box with the four PROCTOR_ lines it printed (and PROCTOR_DEMO=false), e.g. npm start',
      '  npm run sync -- publish examples/exam-demo.json examples/roster-demo.csv --hall demo-hall',
      '  npm run sync -- collect --hall demo-hall --out results',
      '',
      `Central server listening on ${central.url}`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping the local central server.\n`);
    central.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const ended = await central.pouchdb.exited;
  if (stopping) return;
  process.stderr.write(
    `pouchdb-server (PID ${central.pouchdb.pid}) ended by itself (code ${ended.code}, signal ${ended.signal}); ` +
      `its last words:\n${central.pouchdb.stderr().slice(-3_000)}\n`,
  );
  process.exit(1);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main(process.argv.slice(2), process.env).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

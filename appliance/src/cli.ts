/**
 * The appliance's command line (`npm run appliance -- <command>`):
 *   import <exam.json> <roster.csv|roster.json>   validate and store an exam and its roster
 *   verify-receipt <receipt.json> [--public-key <file>]   check a submission receipt
 *   verify-log [--exam <examId>] [--json]   check the hash-chained event log in both copies
 *   discover [--timeout <s>] [--json] [--watch] [--interface <ipv4>]   appliances in the hall (mDNS)
 *   doctor [--url <health url>] [--json]   is this box fit for an exam
 *   certificate [--json]   the HTTPS certificate's mode, expiry, days left and names
 * Exit codes: 0 done, 1 the input is wrong (the message says where; for verify-log: a bad event),
 * 2 usage or setup problem.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../domain/clock.js';
import { parseCommandLine, type ArgProblem } from './cli-args.js';
import { loadConfig, ConfigError } from './config.js';
import { parsePublicKey, verifyReceipt } from './crypto/receipts.js';
import { ExamPackages } from './exam-packages.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { formatImportErrors } from '../../domain/import-errors.js';
import { parseRoster, rosterFormatFromName } from '../../domain/roster-import.js';
import { HallStore } from './store/hall-store.js';
import { PROCTOR_USAGE, ProctorCliError, proctorCommand } from './proctors/proctor-cli.js';
import { SecretStore } from './store/secrets.js';
import { browse, discover, type DiscoveredAppliance } from './discovery/index.js';
import { formatDoctor, runDoctor } from './doctor.js';
import { certificateStatus, RENEW_WITHIN_DAYS } from './tls/index.js';
import { DataFolderInUseError, formatVerifyLogReport, verifyLog, VerifyLogSetupError } from './verify-log.js';

const USAGE = `Usage: npm run appliance -- <command>

Commands:
  import <exam.json> <roster.csv|roster.json>
      Validate an exam and its roster (errors name the file, line and column) and store them
      in the appliance's data folder (PROCTOR_DATA_DIR, default ./data). Stop the appliance first.
  verify-receipt <receipt.json> [--public-key <file>]
      Check a submission receipt's signature. The trusted key is the appliance's own (from the
      data folder) unless --public-key names a PEM or base64 key file (e.g. from /api/receipt-key).
  verify-log [--exam <examId>] [--json]
      Verify the hash-chained event log in both of its copies (database and journal) and compare
      them; for each chain print its events, head seq and hash, and OK or the first bad event.
      Check every blob the events name (exists, size, SHA-256) and name each missing or damaged
      one with its examinee and event. --json prints one JSON object. Exit 0 all verify, 1
      something is bad. Stop the appliance first.
  discover [--timeout <seconds>] [--json] [--watch] [--interface <ipv4>]
      List the appliances in the hall over mDNS (_proctor._tcp): name, host, addresses, port, id,
      hall, version. Waits --timeout seconds (default 3). --watch prints one JSON line per
      appliance that comes (up) or goes (down) until stopped. Exit 0 found some, 1 none.
  doctor [--url <health url>] [--json]
      Check this box: disk space, clock synchronised, certificate days left, data folder
      writable, every blob the events name (read from the journal and blob files, so it runs
      beside the appliance), service active, the running appliance's /api/health (default
      http://127.0.0.1:<PROCTOR_PORT>/api/health). Exit 0 healthy (maybe with warnings), 1 a
      check failed.
  certificate [--json]
      The HTTPS certificate (PROCTOR_HTTPS_MODE): mode, expiry, days left, names, files and the
      local CA's fingerprint. Exit 0 fine (or HTTPS off), 1 missing, unreadable or under 30 days left.
${PROCTOR_USAGE}
`;

const systemClock: Clock = { now: () => Date.now() };

class UsageError extends Error {}

/** A refused flag or argument as this command's usage error; `needs` words a flag's missing value. */
const argError =
  (command: string, needs: Record<string, string> = {}) =>
  (p: ArgProblem): UsageError =>
    new UsageError(
      p.kind === 'missing-value'
        ? (needs[p.arg] ?? `${p.arg} needs a value`)
        : `${command}: unexpected argument "${p.arg}"`,
    );

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function importCommand(args: string[]): Promise<number> {
  const { positionals } = parseCommandLine({ args, options: {}, allowPositionals: true }, argError('import'));
  const [examFile, rosterFile, ...rest] = positionals;
  if (examFile === undefined || rosterFile === undefined || rest.length > 0)
    throw new UsageError('import needs <exam.json> <roster.csv|roster.json>');
  const format = rosterFormatFromName(rosterFile);
  if (!format) throw new UsageError(`${rosterFile}: the roster must be a .csv or .json file`);
  const examResult = parseExamFile(await readText(examFile));
  if (!examResult.ok) {
    process.stderr.write(`${formatImportErrors(examFile, examResult.errors)}\n`);
    return 1;
  }
  const exam = examResult.exam;
  const rosterResult = parseRoster(await readText(rosterFile), format, exam.examId);
  if (!rosterResult.ok) {
    process.stderr.write(`${formatImportErrors(rosterFile, rosterResult.errors)}\n`);
    return 1;
  }
  const config = loadConfig(process.env, process.cwd());
  const store = await openStoreForCli(config.dataDir, config.hallId);
  try {
    await store.putExam(
      toExamDoc(exam),
      rosterResult.entries.map((e) => toExamineeDoc(exam.examId, e)),
    );
    const secret = await new ExamPackages(store.secrets).secret(exam.examId);
    process.stdout.write(
      `Imported "${exam.title}" (${exam.examId}) with ${rosterResult.entries.length} examinees into ${config.dataDir}.\n` +
        `  Starts ${exam.scheduledStart} for ${exam.durationMinutes} min; downloads ${exam.downloadWindow.opens} – ${exam.downloadWindow.closes}.\n` +
        `  Exam password (read it out for a start without network): ${secret.password}\n`,
    );
  } finally {
    await store.close();
  }
  return 0;
}

const inUseError = (dataDir: string) =>
  new UsageError(
    `the data folder ${dataDir} is in use by a running appliance: stop it first (e.g. systemctl stop proctor-appliance)`,
  );

async function openStoreForCli(dataDir: string, hallId: string): Promise<HallStore> {
  try {
    return await HallStore.open({ dataDir, clock: systemClock, hallId });
  } catch (err) {
    if (/lock/i.test(String(err))) throw inUseError(dataDir);
    throw err;
  }
}

async function verifyLogCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(
    { args, options: { exam: { type: 'string' }, json: { type: 'boolean', default: false } } },
    argError('verify-log', { '--exam': '--exam needs an exam id' }),
  );
  const { exam: examId, json } = values;
  const config = loadConfig(process.env, process.cwd());
  let report;
  try {
    report = await verifyLog(config.dataDir, examId === undefined ? {} : { examId });
  } catch (err) {
    if (err instanceof DataFolderInUseError) throw inUseError(config.dataDir);
    if (err instanceof VerifyLogSetupError) throw new UsageError(err.message);
    throw err;
  }
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyLogReport(report));
  return report.ok ? 0 : 1;
}

async function verifyReceiptCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    { args, options: { 'public-key': { type: 'string' } }, allowPositionals: true },
    argError('verify-receipt', { '--public-key': '--public-key needs a file' }),
  );
  const keyFile = values['public-key'];
  const [receiptFile, ...rest] = positionals;
  if (receiptFile === undefined || rest.length > 0) throw new UsageError('verify-receipt needs <receipt.json>');
  let receipt: unknown;
  try {
    receipt = JSON.parse(await readText(receiptFile));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    process.stderr.write(`INVALID: ${receiptFile} is not JSON\n`);
    return 1;
  }
  // Accept a bare receipt or the submission response that wraps it.
  if (typeof receipt === 'object' && receipt !== null && 'receipt' in receipt)
    receipt = (receipt as { receipt: unknown }).receipt;
  let trusted;
  try {
    if (keyFile !== undefined) {
      trusted = parsePublicKey(await readText(keyFile));
    } else {
      const config = loadConfig(process.env, process.cwd());
      const secrets = await SecretStore.open(config.dataDir);
      trusted = parsePublicKey(secrets.value.receiptPublicKeyPem);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) throw err;
    throw new UsageError(`cannot read the public key: ${String(err)}`);
  }
  const check = verifyReceipt(receipt, trusted);
  if (!check.ok) {
    process.stderr.write(`INVALID: ${check.reason}\n`);
    return 1;
  }
  const p = check.receipt.payload;
  process.stdout.write(
    `VALID receipt: exam ${p.examId}, student ${p.studentId}, submission ${p.n} (${p.submissionType}), ` +
      `${p.size} bytes, SHA-256 ${p.sha256}, received ${p.receivedAt} by appliance ${p.applianceId} (hall ${p.hallId})\n`,
  );
  return 0;
}

function formatAppliance(a: DiscoveredAppliance): string {
  return (
    `${a.name}  ${a.host}  ${a.addresses.join(',') || '-'}  port ${a.port}  id ${a.id ?? '-'}  ` +
    `hall ${a.hall ?? '-'}  version ${a.version ?? '-'}  ${a.url}`
  );
}

async function discoverCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(
    {
      args,
      options: {
        timeout: { type: 'string' },
        json: { type: 'boolean', default: false },
        watch: { type: 'boolean', default: false },
        interface: { type: 'string' },
      },
    },
    argError('discover'),
  );
  const { json, watch, interface: interfaceAddress } = values;
  let timeoutMs = 3_000;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
      throw new UsageError('--timeout needs seconds (0 < s <= 600)');
    timeoutMs = seconds * 1_000;
  }
  if (watch) {
    const browsing = browse({
      interfaceAddress,
      onUp: (a) => process.stdout.write(`${JSON.stringify({ event: 'up', ...a })}\n`),
      onDown: (a) => process.stdout.write(`${JSON.stringify({ event: 'down', ...a })}\n`),
    });
    process.stdout.write(`${JSON.stringify({ event: 'browsing' })}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await browsing.stop();
    return 0;
  }
  const found = await discover({ timeoutMs, interfaceAddress });
  if (json) process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
  else if (found.length === 0)
    process.stdout.write(
      `No appliance answered within ${timeoutMs / 1_000} s.` +
        (interfaceAddress ? '\n' : ' (On a network without a default route, add --interface <your IPv4 address>.)\n'),
    );
  else for (const a of found) process.stdout.write(`${formatAppliance(a)}\n`);
  return found.length > 0 ? 0 : 1;
}

async function doctorCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(
    { args, options: { url: { type: 'string' }, json: { type: 'boolean', default: false } } },
    argError('doctor'),
  );
  const config = loadConfig(process.env, process.cwd());
  const json = values.json;
  // The box's certificate names 127.0.0.1 (local-ca), so the health check can ask over https.
  const healthUrl =
    values.url ?? `${config.httpsMode === 'off' ? 'http' : 'https'}://127.0.0.1:${config.port}/api/health`;
  const checks = await runDoctor({
    dataDir: config.dataDir,
    healthUrl,
    unit: 'proctor-appliance',
    nowMs: Date.now(),
    httpsMode: config.httpsMode,
    allowVolatileData: config.allowVolatileData,
    ...(config.httpsMode === 'provided' ? { certFile: config.tlsCert } : {}),
  });
  process.stdout.write(json ? `${JSON.stringify(checks, null, 2)}\n` : formatDoctor(checks));
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

async function certificateCommand(args: string[]): Promise<number> {
  const { values } = parseCommandLine(
    { args, options: { json: { type: 'boolean', default: false } } },
    () => new UsageError('certificate takes only --json'),
  );
  const config = loadConfig(process.env, process.cwd());
  const status = await certificateStatus(config);
  const bad = status.mode !== 'off' && (status.problem !== null || (status.daysLeft ?? -1) < RENEW_WITHIN_DAYS);
  if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else if (status.mode === 'off') process.stdout.write('HTTPS is off (PROCTOR_HTTPS_MODE=off): no certificate.\n');
  else {
    const lines = [
      `mode: ${status.mode}`,
      status.problem === null ? undefined : `PROBLEM: ${status.problem}`,
      `certificate: ${status.certPath ?? '-'} (key ${status.keyPath ?? '-'})`,
      status.notAfter === null ? undefined : `valid until: ${status.notAfter} (${status.daysLeft} days left)`,
      status.names.length > 0 ? `names: ${status.names.join(' ')}` : undefined,
      status.caPath === null ? undefined : `CA: ${status.caPath}, SHA-256 ${status.caFingerprint ?? '-'}`,
    ];
    process.stdout.write(`${lines.filter((l) => l !== undefined).join('\n')}\n`);
  }
  return bad ? 1 : 0;
}

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'import':
        return await importCommand(args);
      case 'verify-receipt':
        return await verifyReceiptCommand(args);
      case 'proctor':
        return await proctorCommand(args);
      case 'verify-log':
        return await verifyLogCommand(args);
      case 'discover':
        return await discoverCommand(args);
      case 'doctor':
        return await doctorCommand(args);
      case 'certificate':
        return await certificateCommand(args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof ProctorCliError) {
      process.stderr.write(`${err.message}\n\n${err instanceof UsageError ? USAGE : ''}`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * The institution's command line for the central CouchDB (`npm run sync -- <command>`):
 *   publish <exam.json> <roster.csv|roster.json> --hall <id>   exam + roster into hall-<id>
 *   collect --hall <id> --out <dir> [--exam <examId>]          every submission and file + CSVs
 *   install-design --hall <id> [--member <user>]...            validate_doc_update + security
 *   add-hall | add-appliance | remove-appliance                halls and boxes (central/provisioning-cli.ts)
 *   verify --hall <id> [--json]                                 check chains, receipts, blobs, roster
 * The server: --url, or CENTRAL_URL; credentials (an admin's) in the URL, or --user /
 * CENTRAL_USER and CENTRAL_PASSWORD (or --password-stdin). Passwords are never printed, but for the
 * box password add-appliance generates (once).
 * Exit codes: 0 done, 1 the input is wrong or results are incomplete (verify: problems found),
 * 2 usage or setup problem.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../domain/exam-import.js';
import { formatImportErrors } from '../domain/import-errors.js';
import { parseRoster, rosterFormatFromName } from '../domain/roster-import.js';
import { centralLink, checkCentralDb, hallDbName, openCentralDb, type CentralLink } from './central-link.js';
import {
  CollectRefusal,
  collectSubmissions,
  installDesign,
  publishExam,
  setHallSecurity,
} from './central/institution.js';
import { isProvisioningCommand, PROVISIONING_USAGE, runProvisioningCommand } from './central/provisioning-cli.js';
import { formatVerifyReport, verifyHall } from './central/verify.js';
import { describeSyncError } from './sync-status.js';

/** The verify report collect writes beside its results. */
const VERIFY_JSON = 'verify.json';

const USAGE = `Usage: npm run sync -- <command> [--url <couchdb-url>] [--user <name>] [--password-stdin]

Commands:
  publish <exam.json> <roster.csv|roster.json> --hall <id>
      Validate the exam and roster (errors name file:line:column) and write them into the hall's
      database hall-<id> (created if missing), as the appliance's import does (access codes
      hashed). Publishing again updates the exam and picks up the new roster version.
  collect --hall <id> --out <dir> [--exam <examId>]
      Into the new or empty folder <dir>: every submission version of every examinee (the one
      that counts also as <examId>/<studentId>.answers.json), every uploaded file, verification
      photo, proctoring snapshot and answers kept at time-up, each reassembled from its chunks and
      checked against its SHA-256; submissions.csv (which version counts and why), files.csv and
      collect.json. Exit 1 when a file is missing (not synced yet) or does not match its SHA-256,
      or a document has conflicting revisions; exit 2, writing nothing, for an unknown hall or
      exam or an unusable <dir>.
  install-design --hall <id> [--member <user>]...
      Create hall-<id> if missing, install its validate_doc_update design document, and set its
      security object so only the members (default: the user hall-<id>) and admins can use it.
      (The older setup with one user per hall: it replaces the members, role hall:<id> included;
      for a hall with per-box users run add-hall instead.)
${PROVISIONING_USAGE}
  verify --hall <id> [--json]
      Check hall-<id> on its own (docs/verifying.md): every event chain, each submission's
      receipt against its box's published key and its roster entry, every blob's chunks and
      SHA-256, conflicts. Exit 1 when it finds problems; --json prints the report as JSON.

The server is --url or CENTRAL_URL (e.g. https://couch.example.edu:6984); admin credentials in
the URL, or --user / CENTRAL_USER and CENTRAL_PASSWORD, or --password-stdin (for add-appliance
it reads the box's password instead).
`;

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => Promise<string>;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** Every command's flags (node:util parseArgs, strict); a flag given twice: the first counts, but --member adds up. */
const OPTIONS = {
  url: { type: 'string', multiple: true },
  user: { type: 'string', multiple: true },
  hall: { type: 'string', multiple: true },
  out: { type: 'string', multiple: true },
  exam: { type: 'string', multiple: true },
  member: { type: 'string', multiple: true },
  'password-stdin': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

interface Parsed {
  positional: string[];
  /** The value of `--<name>`: the first one given. */
  flag(name: Exclude<keyof typeof OPTIONS, 'password-stdin' | 'member' | 'json'>): string | undefined;
  members: string[] | undefined;
  passwordStdin: boolean;
  json: boolean;
}

/** parseArgs' refusals in this CLI's words: "unknown option --x", "--hall needs a value". */
function usageErrorOf(err: unknown): UsageError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (!(err instanceof Error) || typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const quoted = (/'([^']*)'/.exec(err.message)?.[1] ?? '').split(' ')[0] ?? '';
  return new UsageError(
    code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${quoted} needs a value` : `unknown option ${quoted}`,
  );
}

function parseFlags(args: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw usageErrorOf(err) ?? err;
  }
  const { values, positionals } = parsed;
  return {
    positional: positionals,
    flag: (name) => values[name]?.[0],
    members: values.member,
    passwordStdin: values['password-stdin'],
    json: values.json,
  };
}

const HALL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function hallOf(p: Parsed): string {
  const hall = p.flag('hall');
  if (hall === undefined) throw new UsageError('--hall <id> is required');
  if (!HALL_ID.test(hall)) throw new UsageError(`--hall ${hall}: lower-case letters, digits and - only`);
  return hall;
}

async function linkOf(p: Parsed, env: Record<string, string | undefined>, io: Io): Promise<CentralLink> {
  const url = p.flag('url') ?? env.CENTRAL_URL;
  if (url === undefined || url === '') throw new UsageError('the central server is needed: --url or CENTRAL_URL');
  const user = p.flag('user') ?? env.CENTRAL_USER;
  let password = env.CENTRAL_PASSWORD;
  if (p.passwordStdin) password = (await io.readStdin()).replace(/\r?\n$/, '');
  try {
    return centralLink(url, user, password);
  } catch (err) {
    throw new UsageError(`--url: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function publishCommand(p: Parsed, env: Record<string, string | undefined>, io: Io): Promise<number> {
  const [examFile, rosterFile, ...rest] = p.positional;
  if (examFile === undefined || rosterFile === undefined || rest.length > 0)
    throw new UsageError('publish needs <exam.json> <roster.csv|roster.json>');
  const hall = hallOf(p);
  const format = rosterFormatFromName(rosterFile);
  if (!format) throw new UsageError(`${rosterFile}: the roster must be a .csv or .json file`);
  const examResult = parseExamFile(await readText(examFile));
  if (!examResult.ok) {
    io.err(`${formatImportErrors(examFile, examResult.errors)}\n`);
    return 1;
  }
  const exam = examResult.exam;
  const rosterResult = parseRoster(await readText(rosterFile), format, exam.examId);
  if (!rosterResult.ok) {
    io.err(`${formatImportErrors(rosterFile, rosterResult.errors)}\n`);
    return 1;
  }
  const link = await linkOf(p, env, io);
  const db = openCentralDb(link, hall, { create: true });
  const report = await publishExam(
    db,
    toExamDoc(exam),
    rosterResult.entries.map((e) => toExamineeDoc(exam.examId, e)),
  );
  const e = report.examinees;
  io.out(
    `Published "${exam.title}" (${exam.examId}) to ${hallDbName(hall)} on ${link.server}: exam ${report.exam}; ` +
      `examinees ${e.created} new, ${e.updated} updated, ${e.unchanged} unchanged.\n`,
  );
  if (report.notInRoster.length > 0) {
    io.out(
      `  Note: ${report.notInRoster.length} examinee(s) on the central roster are not in this roster and were kept: ` +
        `${report.notInRoster.slice(0, 10).join(', ')}${report.notInRoster.length > 10 ? ', ...' : ''}\n`,
    );
  }
  return 0;
}

async function collectCommand(p: Parsed, env: Record<string, string | undefined>, io: Io): Promise<number> {
  if (p.positional.length > 0) throw new UsageError(`collect: unexpected argument "${p.positional[0]}"`);
  const hall = hallOf(p);
  const out = p.flag('out');
  if (out === undefined) throw new UsageError('collect needs --out <dir>');
  const link = await linkOf(p, env, io);
  let report;
  try {
    report = await collectSubmissions(openCentralDb(link, hall), path.resolve(out), p.flag('exam'), {
      label: hallDbName(hall),
    });
  } catch (err) {
    if (typeof (err as { status?: unknown }).status === 'number') {
      io.err(`${describeSyncError(err, link.server, hallDbName(hall), 'the given').message}\n`);
      return 2;
    }
    if (!(err instanceof CollectRefusal)) throw err;
    io.err(`collect: ${err.message}. Nothing was written.\n`);
    return 2;
  }
  io.out(
    `Collected ${report.written} of ${report.submissions} submissions and ${report.filesWritten} of ${report.files} files ` +
      `(uploads, photos, snapshots, answers kept at time-up) from ${hallDbName(hall)} into ${report.outDir} ` +
      `(every file checked against its SHA-256); lists: ${report.csvPath}, ${report.filesCsvPath}\n`,
  );
  for (const id of report.conflicts) io.err(`  CONFLICTING REVISIONS: ${id}\n`);
  for (const id of report.missing) io.err(`  missing (not synced yet?): ${id}\n`);
  for (const id of report.mismatched) io.err(`  SHA-256 MISMATCH: ${id}\n`);
  for (const what of report.missingFiles) io.err(`  missing file (not synced yet?): ${what}\n`);
  for (const what of report.mismatchedFiles) io.err(`  SHA-256 MISMATCH: ${what}\n`);
  // The hall's records checked on their own (docs/verifying.md): event chains, receipts against
  // the boxes' published keys, roster membership, every blob; the report beside the results.
  const verified = await verifyHall(openCentralDb(link, hall), hall);
  await writeFile(path.join(report.outDir, VERIFY_JSON), `${JSON.stringify(verified, null, 2)}\n`);
  io.out(`${formatVerifyReport(verified, hallDbName(hall)).split('\n')[0]} (${VERIFY_JSON})\n`);
  for (const note of verified.notes) io.out(`  not checked: ${note}\n`);
  for (const problem of verified.problems) io.err(`  VERIFY ${problem.code}: ${problem.id}: ${problem.message}\n`);
  const problems =
    report.conflicts.length +
    report.missing.length +
    report.mismatched.length +
    report.missingFiles.length +
    report.mismatchedFiles.length +
    verified.problems.length;
  if (problems > 0)
    io.err(`collect: INCOMPLETE, ${problems} problem(s) above (also in collect.json and ${VERIFY_JSON}).\n`);
  return problems > 0 ? 1 : 0;
}

async function installDesignCommand(p: Parsed, env: Record<string, string | undefined>, io: Io): Promise<number> {
  if (p.positional.length > 0) throw new UsageError(`install-design: unexpected argument "${p.positional[0]}"`);
  const hall = hallOf(p);
  const link = await linkOf(p, env, io);
  const db = openCentralDb(link, hall, { create: true });
  const design = await installDesign(db, hall);
  const members = p.members ?? [hallDbName(hall)];
  const security = await setHallSecurity(link, hall, members);
  io.out(
    `${hallDbName(hall)} on ${link.server}: design document ${design}; ` +
      (security
        ? `security object set (members: ${members.join(', ')}).\n`
        : `this server has no _security endpoint: security object NOT set.\n`),
  );
  return 0;
}

async function verifyCommand(p: Parsed, env: Record<string, string | undefined>, io: Io): Promise<number> {
  if (p.positional.length > 0) throw new UsageError(`verify: unexpected argument "${p.positional[0]}"`);
  const hall = hallOf(p);
  const link = await linkOf(p, env, io);
  const db = openCentralDb(link, hall);
  const where = `${hallDbName(hall)} on ${link.server}`;
  try {
    await checkCentralDb(db);
  } catch (err) {
    if ((err as { status?: unknown }).status !== 404) throw err;
    io.err(`There is no hall database ${where} (404): is --hall ${hall} right?\n`);
    return 2;
  }
  const report = await verifyHall(db, hall);
  io.out(p.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report, where));
  return report.ok ? 0 : 1;
}

/** Runs one command; returns the exit code. */
export async function runSyncCli(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: Io = defaultIo,
): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (isProvisioningCommand(command))
      return await runProvisioningCommand(command, args, env, io, (message) => new UsageError(message));
    const parsed = parseFlags(args);
    switch (command) {
      case 'publish':
        return await publishCommand(parsed, env, io);
      case 'collect':
        return await collectCommand(parsed, env, io);
      case 'install-design':
        return await installDesignCommand(parsed, env, io);
      case 'verify':
        return await verifyCommand(parsed, env, io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    const e = err as { status?: unknown; name?: unknown };
    // A refusal with a status; or no answer at all: fetch's TypeError, PouchDB's FetchError (ECONNREFUSED, ...).
    const unreachable = err instanceof TypeError || e?.name === 'FetchError';
    if (typeof e === 'object' && e !== null && (typeof e.status === 'number' || unreachable)) {
      io.err(`${describeSyncError(err, 'at the given URL', 'the hall database', 'the given').message}\n`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  runSyncCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

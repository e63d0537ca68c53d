/**
 * The provisioning commands of `npm run sync` (sync/cli.ts dispatches here):
 *   add-hall --hall <id>
 *   add-appliance --hall <id> --appliance <applianceId> [--password-stdin] [--reset-password] [--box-url <url>]
 *   remove-appliance --hall <id> --appliance <applianceId>
 * The server: --url or CENTRAL_URL; a server admin's credentials in the URL, or --user /
 * CENTRAL_USER and CENTRAL_PASSWORD. For add-hall and remove-appliance, --password-stdin reads
 * the admin's password; for add-appliance it reads the box's new password (the admin's then
 * comes from CENTRAL_PASSWORD or the URL).
 * Exit codes as the rest of the CLI: 0 done, 1 refused (nothing changed), 2 usage or setup problem.
 */
import { parseArgs } from 'node:util';
import { centralLink, hallDbName, type CentralLink } from '../central-link.js';
import {
  addAppliance,
  addHall,
  APPLIANCE_ID,
  HALL_ID,
  MIN_PASSWORD_LENGTH,
  ProvisioningError,
  removeAppliance,
} from './provisioning.js';

export const PROVISIONING_COMMANDS = ['add-hall', 'add-appliance', 'remove-appliance'] as const;
export type ProvisioningCommand = (typeof PROVISIONING_COMMANDS)[number];

export const isProvisioningCommand = (command: string): command is ProvisioningCommand =>
  (PROVISIONING_COMMANDS as readonly string[]).includes(command);

/** The part of `npm run sync`'s usage text about these commands. */
export const PROVISIONING_USAGE = `  add-hall --hall <id>
      Create hall-<id> if missing, install its validate_doc_update design document and the portal's
      views, and make the role hall:<id> a member of it (members already there stay). Safe to run
      again.
  add-appliance --hall <id> --appliance <applianceId> [--password-stdin] [--reset-password]
                [--box-url <url>]
      Create the box's own CouchDB user appliance-<applianceId> with the roles
      appliance:<applianceId> and hall:<id>, and print the lines for the box's environment once
      (PROCTOR_HALL_ID, PROCTOR_SYNC_URL, PROCTOR_SYNC_USER, PROCTOR_SYNC_PASSWORD). The password is
      generated unless given on standard input (--password-stdin, at least ${MIN_PASSWORD_LENGTH} characters; the
      admin's password then comes from CENTRAL_PASSWORD or the URL). An existing box is refused
      unless --reset-password. --box-url: the server's address as the box sees it (default: --url).
      The box's id: GET /api/health on the box (applianceId), also printed when it starts.
  remove-appliance --hall <id> --appliance <applianceId>
      Revoke a box: delete its user (its credentials get 401 from then on). Its documents stay.
`;

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => Promise<string>;
}

const OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  hall: { type: 'string' },
  appliance: { type: 'string' },
  'box-url': { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
  'reset-password': { type: 'boolean', default: false },
} as const;

const ALLOWED: Record<ProvisioningCommand, readonly (keyof typeof OPTIONS)[]> = {
  'add-hall': ['url', 'user', 'hall', 'password-stdin'],
  'add-appliance': ['url', 'user', 'hall', 'appliance', 'box-url', 'password-stdin', 'reset-password'],
  'remove-appliance': ['url', 'user', 'hall', 'appliance', 'password-stdin'],
};

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

function parse(command: ProvisioningCommand, args: string[]): Values {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const quoted = (/'([^']*)'/.exec(err instanceof Error ? err.message : '')?.[1] ?? '').split(' ')[0] ?? '';
    throw new UsageError(
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${quoted} needs a value` : `unknown option ${quoted}`,
    );
  }
  if (parsed.positionals.length > 0) throw new UsageError(`${command}: unexpected argument "${parsed.positionals[0]}"`);
  const values = parsed.values as Values;
  for (const key of Object.keys(values) as (keyof typeof OPTIONS)[]) {
    const given = values[key];
    if (given === undefined || given === false) continue;
    if (!ALLOWED[command].includes(key)) throw new UsageError(`${command} takes no --${key}`);
  }
  return values;
}

function idOf(values: Values, flag: 'hall' | 'appliance', pattern: RegExp): string {
  const id = values[flag];
  if (id === undefined || id === '') throw new UsageError(`--${flag} <id> is required`);
  if (!pattern.test(id))
    throw new UsageError(`--${flag} ${JSON.stringify(id)}: lower-case letters, digits and - only (at most 63)`);
  return id;
}

const readLine = async (io: Io) => (await io.readStdin()).replace(/\r?\n$/, '');

async function linkOf(values: Values, env: Record<string, string | undefined>, adminPassword: string | undefined) {
  const url = values.url ?? env.CENTRAL_URL;
  if (url === undefined || url === '') throw new UsageError('the central server is needed: --url or CENTRAL_URL');
  try {
    return centralLink(url, values.user ?? env.CENTRAL_USER, adminPassword ?? env.CENTRAL_PASSWORD);
  } catch (err) {
    throw new UsageError(`--url: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function boxUrlOf(values: Values, link: CentralLink): string {
  if (values['box-url'] === undefined) return link.baseUrl;
  try {
    return centralLink(values['box-url']).baseUrl;
  } catch (err) {
    throw new UsageError(`--box-url: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function addHallCommand(values: Values, env: Record<string, string | undefined>, io: Io): Promise<number> {
  const hallId = idOf(values, 'hall', HALL_ID);
  const link = await linkOf(values, env, values['password-stdin'] ? await readLine(io) : undefined);
  const r = await addHall(link, hallId);
  const members = [
    ...r.members.roles.map((role) => `role ${role}`),
    ...r.members.names.map((name) => `user ${name}`),
  ].join(', ');
  io.out(
    `${hallDbName(hallId)} on ${link.server}: database ${r.database}; design document ${r.design}; portal views ${r.portalDesign}; ` +
      `security object ${r.security} (members: ${members}).\n` +
      `Next: npm run sync -- add-appliance --hall ${hallId} --appliance <the box's id>\n`,
  );
  return 0;
}

async function addApplianceCommand(values: Values, env: Record<string, string | undefined>, io: Io): Promise<number> {
  const hallId = idOf(values, 'hall', HALL_ID);
  const applianceId = idOf(values, 'appliance', APPLIANCE_ID);
  const link = await linkOf(values, env, undefined);
  const boxUrl = boxUrlOf(values, link);
  let password: string | undefined;
  if (values['password-stdin']) {
    password = await readLine(io);
    if (/[\r\n]/.test(password)) throw new UsageError('--password-stdin: one line, the password only');
  }
  const r = await addAppliance(link, {
    hallId,
    applianceId,
    resetPassword: values['reset-password'] ?? false,
    ...(password === undefined ? {} : { password }),
  });
  const done = r.action === 'created' ? 'created' : 'given a new password';
  io.out(
    [
      `# Box ${applianceId} in hall ${hallId}: user ${r.user} ${done} on ${link.server} (roles ${r.roles.join(', ')}).`,
      `# Put these lines in the box's environment (/etc/proctor-appliance/local.env on a box, or the`,
      `# shell that runs npm start) and restart it.${r.generated ? ' The password is shown only now.' : ''}`,
      `PROCTOR_HALL_ID=${hallId}`,
      `PROCTOR_SYNC_URL=${boxUrl}`,
      `PROCTOR_SYNC_USER=${r.user}`,
      r.generated
        ? `PROCTOR_SYNC_PASSWORD=${r.password}`
        : `# PROCTOR_SYNC_PASSWORD=<the password given on standard input; not shown>`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function removeApplianceCommand(values: Values, env: Record<string, string | undefined>, io: Io) {
  const hallId = idOf(values, 'hall', HALL_ID);
  const applianceId = idOf(values, 'appliance', APPLIANCE_ID);
  const link = await linkOf(values, env, values['password-stdin'] ? await readLine(io) : undefined);
  const r = await removeAppliance(link, { hallId, applianceId });
  io.out(
    `Box ${applianceId} revoked: user ${r.user} deleted on ${link.server}; its credentials are refused from now on. ` +
      `What it pushed stays in ${hallDbName(hallId)}; what it has not pushed stays on the box.\n`,
  );
  return 0;
}

/**
 * Runs one provisioning command; returns the exit code. Usage errors are thrown as the CLI's
 * own kind through `usageError`, so that it prints them with its usage text.
 */
export async function runProvisioningCommand(
  command: ProvisioningCommand,
  args: string[],
  env: Record<string, string | undefined>,
  io: Io,
  usageError: (message: string) => Error,
): Promise<number> {
  try {
    const values = parse(command, args);
    switch (command) {
      case 'add-hall':
        return await addHallCommand(values, env, io);
      case 'add-appliance':
        return await addApplianceCommand(values, env, io);
      case 'remove-appliance':
        return await removeApplianceCommand(values, env, io);
    }
  } catch (err) {
    if (err instanceof UsageError) throw usageError(err.message);
    if (err instanceof ProvisioningError) {
      io.err(`${command}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

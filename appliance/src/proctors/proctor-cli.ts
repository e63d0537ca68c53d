/**
 * `npm run appliance -- proctor <add|passwd|remove|list>`: manage proctor accounts. Works while
 * the appliance runs (it re-reads the accounts file). Passwords are read from standard input
 * with --password-stdin (for scripts), or asked for twice without echo on a terminal.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import { parseCommandLine } from '../cli-args.js';
import { loadConfig } from '../config.js';
import { AccountError, PROCTOR_ROLES, ProctorAccounts } from './accounts.js';

export const PROCTOR_USAGE = `  proctor add <username> --role chief|invigilator [--name "Full Name"] [--password-stdin]
  proctor passwd <username> [--password-stdin]
  proctor remove <username>
  proctor list
      Manage proctor accounts (chief proctors may also change exam-wide settings and remove
      submissions). Without --password-stdin the password is asked for on the terminal.`;

export class ProctorCliError extends Error {}

const PASSWORD_STDIN = { 'password-stdin': { type: 'boolean', default: false } } as const;

/** The subcommand's flags and its one username (`proctor add <username> ...`), strictly parsed. */
function parseSubcommand<const O extends NonNullable<ParseArgsConfig['options']>>(
  sub: string,
  args: string[],
  options: O,
) {
  const { values, positionals } = parseCommandLine({ args, options, allowPositionals: true }, (p) =>
    p.kind === 'missing-value'
      ? new ProctorCliError(`${p.arg} needs a value`)
      : new ProctorCliError(`proctor ${sub}: unexpected argument "${p.arg}"`),
  );
  const [username, extra] = positionals;
  if (extra !== undefined) throw new ProctorCliError(`proctor ${sub}: unexpected argument "${extra}"`);
  return { values, username };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks on the terminal without echoing what is typed. */
async function ask(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    muted = false;
    rl.close();
    process.stdout.write('\n');
  }
}

async function newPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readStdin();
  if (!process.stdin.isTTY) throw new ProctorCliError('no terminal to ask for the password: use --password-stdin');
  const first = await ask('New password: ');
  const second = await ask('Again: ');
  if (first !== second) throw new ProctorCliError('the two passwords differ');
  return first;
}

/** Runs a proctor subcommand; returns the exit code. */
export async function proctorCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const accounts = new ProctorAccounts(loadConfig(process.env, process.cwd()).dataDir);
  try {
    switch (sub) {
      case 'add': {
        const { values, username } = parseSubcommand(sub, rest, {
          role: { type: 'string' },
          name: { type: 'string' },
          ...PASSWORD_STDIN,
        });
        if (username === undefined) throw new ProctorCliError('proctor add needs a username');
        const role = PROCTOR_ROLES.find((r) => r === values.role);
        if (role === undefined) throw new ProctorCliError('--role must be chief or invigilator');
        const displayName = values.name;
        await accounts.add(
          {
            username,
            role,
            password: await newPassword(values['password-stdin']),
            ...(displayName === undefined ? {} : { displayName }),
          },
          new Date(),
        );
        process.stdout.write(`Added ${role} "${username}".\n`);
        return 0;
      }
      case 'passwd': {
        const { values, username } = parseSubcommand(sub, rest, PASSWORD_STDIN);
        if (username === undefined) throw new ProctorCliError('proctor passwd needs a username');
        await accounts.setPassword(username, await newPassword(values['password-stdin']), new Date());
        process.stdout.write(`Changed the password of "${username}".\n`);
        return 0;
      }
      case 'remove': {
        const { username } = parseSubcommand(sub, rest, {});
        if (username === undefined) throw new ProctorCliError('proctor remove needs a username');
        await accounts.remove(username);
        process.stdout.write(`Removed "${username}"; their sessions end at their next request.\n`);
        return 0;
      }
      case 'list': {
        const { username } = parseSubcommand(sub, rest, {});
        if (username !== undefined) throw new ProctorCliError(`proctor list: unexpected argument "${username}"`);
        for (const a of await accounts.list()) process.stdout.write(`${a.username}\t${a.role}\t${a.displayName}\n`);
        return 0;
      }
      default:
        throw new ProctorCliError(`unknown proctor command "${sub ?? ''}"`);
    }
  } catch (err) {
    if (err instanceof AccountError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

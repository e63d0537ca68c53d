/**
 * Command-line flags through `node:util` `parseArgs` (strict: an unknown flag, a flag without its
 * value or a stray argument is refused), with its refusals turned into the command's own usage
 * errors so the message names the flag the way the usage text does.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What parseArgs refused: an unknown flag, an argument where none is taken, a flag without its value. */
export interface ArgProblem {
  kind: 'unknown-option' | 'unexpected-argument' | 'missing-value';
  /** The flag (`--exam`) or argument as typed. */
  arg: string;
}

const KINDS: Record<string, ArgProblem['kind']> = {
  ERR_PARSE_ARGS_UNKNOWN_OPTION: 'unknown-option',
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: 'unexpected-argument',
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: 'missing-value',
};

/** The problem a parseArgs error reports, or undefined for any other error. */
export function argProblem(err: unknown): ArgProblem | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  const kind = typeof code === 'string' ? KINDS[code] : undefined;
  if (kind === undefined || !(err instanceof Error)) return undefined;
  // Node names the argument in quotes: "Unknown option '--x'", "Option '--exam <value>' argument missing".
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  return { kind, arg: kind === 'missing-value' ? (quoted.split(' ')[0] ?? quoted) : quoted };
}

/** parseArgs(config), its refusals thrown as `refuse(problem)`. */
export function parseCommandLine<const T extends ParseArgsConfig>(
  config: T,
  refuse: (problem: ArgProblem) => Error,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    const problem = argProblem(err);
    throw problem ? refuse(problem) : err;
  }
}

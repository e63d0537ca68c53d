import { describe, expect, it } from 'vitest';
import { parseCommandLine, type ArgProblem } from './cli-args.js';

const OPTIONS = { exam: { type: 'string' }, json: { type: 'boolean', default: false } } as const;
const problemOf = (args: string[], allowPositionals = false): ArgProblem | undefined => {
  try {
    parseCommandLine({ args, options: OPTIONS, allowPositionals }, (p) => Object.assign(new Error('refused'), { p }));
    return undefined;
  } catch (err) {
    return (err as { p?: ArgProblem }).p;
  }
};

describe('parseCommandLine', () => {
  it('gives the typed values and the positionals', () => {
    const parsed = parseCommandLine(
      { args: ['a', '--exam', 'e1', '--json'], options: OPTIONS, allowPositionals: true },
      () => new Error(),
    );
    expect(parsed.values).toEqual({ exam: 'e1', json: true });
    expect(parsed.positionals).toEqual(['a']);
  });

  it('names what it refuses: an unknown flag, a stray argument, a flag without its value', () => {
    expect(problemOf(['--frob'])).toEqual({ kind: 'unknown-option', arg: '--frob' });
    expect(problemOf(['stray'])).toEqual({ kind: 'unexpected-argument', arg: 'stray' });
    expect(problemOf(['--exam'])).toEqual({ kind: 'missing-value', arg: '--exam' });
    // A flag where the value should be is a missing value, as the hand-written parsers had it.
    expect(problemOf(['--exam', '--json'])).toEqual({ kind: 'missing-value', arg: '--exam' });
    expect(problemOf(['--exam', 'e1'])).toBeUndefined();
  });
});

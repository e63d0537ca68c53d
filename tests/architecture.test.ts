/**
 * The shape docs/architecture.md describes, checked on the files git tracks: production code has
 * no import cycles (type-only imports included), no production source file is over 600 lines, and
 * no test support sits in a folder that ships to the box. (Which part may import which is
 * ESLint's: eslint.config.js.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const PRODUCTION = /^(?:appliance\/src|domain|sync|client\/src|portal\/(?:server|page|shared))\//;
const TEST_FILE = /\.test\.tsx?$/;
const MAX_LINES = 600;

function tracked(...patterns: string[]): string[] {
  return execFileSync('git', ['ls-files', '--', ...patterns], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '');
}

const productionSources = tracked('*.ts', '*.tsx').filter((f) => PRODUCTION.test(f) && !TEST_FILE.test(f));

/** Relative imports and re-exports of `file` that name another production source. */
function importsOf(file: string, known: Set<string>): string[] {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)).replace(/\.js$/, '');
    const hit = [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`].find((candidate) => known.has(candidate));
    if (hit) out.push(hit);
  }
  return out;
}

/** The strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the code base keeps its shape', () => {
  it('has no import cycle in production code (type-only imports count)', () => {
    const known = new Set(productionSources);
    const graph = new Map(productionSources.map((f) => [f, importsOf(f, known)]));
    expect(graph.size).toBeGreaterThan(100);
    // The finder finds what it must: a two-file cycle made up here.
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['a']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b']]);
    expect(cycles(graph)).toEqual([]);
  });

  it(`has no production source file over ${MAX_LINES} lines`, () => {
    const sources = tracked('*.ts', '*.tsx', '*.css').filter((f) => PRODUCTION.test(f) && !TEST_FILE.test(f));
    const long = sources
      .map((f) => ({ file: f, lines: readFileSync(path.join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('keeps test support out of the folders that ship to the box', () => {
    const misplaced = tracked('appliance/src', 'domain', 'sync', 'client/src').filter((f) =>
      /test-support|test-fixtures/.test(f),
    );
    expect(misplaced).toEqual([]);
  });
});

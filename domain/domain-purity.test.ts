/**
 * domain/ stays pure: no Node built-ins, storage, HTTP or UI imports, and no reading of the clock,
 * randomness or the process. The rules live in eslint.config.js; this test proves (a) that each
 * rule fires on a snippet that breaks it, so the check can fail, and (b) that the real files of
 * domain/ break none of them.
 */
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/** The repository root, where eslint.config.js is. */
const ROOT = import.meta.dirname.replace(/[\\/]domain$/, '');
const PROBE = 'domain/__purity-probe__.ts';
const TEST_PROBE = 'domain/__purity-probe__.test.ts';
const OUTSIDE_PROBE = 'appliance/src/__purity-probe__.ts';

type Rule = 'no-restricted-imports' | 'no-restricted-syntax' | 'no-restricted-properties' | 'no-restricted-globals';

/** One snippet per forbidden thing, and the rule that must report it. */
const FORBIDDEN: [what: string, code: string, rule: Rule][] = [
  ...[
    'fs',
    'path',
    'crypto',
    'os',
    'child_process',
    'http',
    'net',
    'stream',
    'util',
    'events',
    'url',
    'buffer',
    'worker_threads',
    'timers',
  ].flatMap((name): [string, string, Rule][] => [
    [`import from '${name}'`, `import * as m from '${name}';\nexport { m };`, 'no-restricted-imports'],
    [`import from 'node:${name}'`, `import * as m from 'node:${name}';\nexport { m };`, 'no-restricted-imports'],
  ]),
  ['import from fs/promises', "import { readFile } from 'fs/promises';\nexport { readFile };", 'no-restricted-imports'],
  [
    'import from node:fs/promises',
    "import { open } from 'node:fs/promises';\nexport { open };",
    'no-restricted-imports',
  ],
  [
    'import from timers/promises',
    "import { setTimeout } from 'timers/promises';\nexport { setTimeout };",
    'no-restricted-imports',
  ],
  [
    'import type from a built-in',
    "import type { Server } from 'node:http';\nexport type S = Server;",
    'no-restricted-imports',
  ],
  ['re-export from a built-in', "export { join } from 'path';", 'no-restricted-imports'],
  ['export * from a built-in', "export * from 'node:os';", 'no-restricted-imports'],
  ['side-effect import of a built-in', "import 'node:worker_threads';", 'no-restricted-imports'],
  ['import from pouchdb', "import PouchDB from 'pouchdb';\nexport { PouchDB };", 'no-restricted-imports'],
  [
    'import from pouchdb-*',
    "import memory from 'pouchdb-adapter-memory';\nexport { memory };",
    'no-restricted-imports',
  ],
  ['import from hono', "import { Hono } from 'hono';\nexport { Hono };", 'no-restricted-imports'],
  ['import from hono/*', "import { cors } from 'hono/cors';\nexport { cors };", 'no-restricted-imports'],
  ['import from @hono/*', "import { serve } from '@hono/node-server';\nexport { serve };", 'no-restricted-imports'],
  [
    'import from rxdb',
    "import { createRxDatabase } from 'rxdb';\nexport { createRxDatabase };",
    'no-restricted-imports',
  ],
  [
    'import from rxdb/*',
    "import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';\nexport { getRxStorageDexie };",
    'no-restricted-imports',
  ],
  ['import from preact', "import { h } from 'preact';\nexport { h };", 'no-restricted-imports'],
  ['import from preact/*', "import { useState } from 'preact/hooks';\nexport { useState };", 'no-restricted-imports'],
  ['Date.now()', 'export const t = Date.now();', 'no-restricted-properties'],
  ['new Date()', 'export const d = new Date();', 'no-restricted-syntax'],
  ['new Date without parentheses', 'export const d = new Date;', 'no-restricted-syntax'],
  ['Date() called as a function', 'export const s = Date();', 'no-restricted-syntax'],
  ['performance.now()', 'export const t = performance.now();', 'no-restricted-properties'],
  ['Math.random()', 'export const r = Math.random();', 'no-restricted-properties'],
  [
    'crypto.getRandomValues()',
    'export const b = crypto.getRandomValues(new Uint8Array(8));',
    'no-restricted-properties',
  ],
  ['crypto.randomUUID()', 'export const u = crypto.randomUUID();', 'no-restricted-properties'],
  ['process.env', "export const port = process.env['PORT'];", 'no-restricted-globals'],
  ['process.hrtime', 'export const t = process.hrtime.bigint();', 'no-restricted-globals'],
  ['process passed along', 'export const p = process;', 'no-restricted-globals'],
  ['globalThis.process', 'export const env = globalThis.process.env;', 'no-restricted-properties'],
  ['dynamic import()', "export const load = () => import('node:fs');", 'no-restricted-syntax'],
];

/** Snippets that domain/ may contain: none of them may be reported. */
const ALLOWED: [what: string, code: string][] = [
  ['a Date from a given time', 'export const d = (ms: number) => new Date(ms).toISOString();'],
  ['Date.parse', "export const t = Date.parse('2026-06-01T09:00:00Z');"],
  ['a Clock passed in', 'export const now = (clock: { now(): number }) => clock.now();'],
  ['a random source passed in', 'export const pick = (random: (n: number) => Uint8Array) => random(1)[0];'],
  ['relative imports, also of events.js', "import { eventDocId } from './events.js';\nexport { eventDocId };"],
  ['zod', "import { z } from 'zod';\nexport const s = z.string();"],
  ['@noble/hashes', "import { sha256 } from '@noble/hashes/sha2.js';\nexport { sha256 };"],
  ['a local named like a forbidden global', 'export const f = (process: string) => process.length;'],
];

let eslint: ESLint;

/** Lints `code` as if it were the file `filePath` and returns its messages. */
async function lint(code: string, filePath: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (!result) throw new Error('ESLint returned no result');
  return result.messages;
}

const fatal = (messages: Linter.LintMessage[]) => messages.filter((m) => m.fatal === true);
const errors = (messages: Linter.LintMessage[]) => messages.filter((m) => m.severity === 2);

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

describe('the domain purity rules fire', () => {
  it.each(FORBIDDEN)('reports %s', async (_what, code, rule) => {
    const messages = await lint(code, PROBE);
    expect(fatal(messages)).toEqual([]);
    const hits = errors(messages).filter((m) => m.ruleId === rule);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]?.message).toContain('domain/');
  });

  it.each(FORBIDDEN)('reports %s in a test file under domain/ as well', async (_what, code, rule) => {
    const messages = await lint(code, TEST_PROBE);
    expect(errors(messages).map((m) => m.ruleId)).toContain(rule);
  });

  it.each(FORBIDDEN)('does not report %s outside domain/', async (_what, code, rule) => {
    const messages = await lint(code, OUTSIDE_PROBE);
    expect(fatal(messages)).toEqual([]);
    expect(messages.map((m) => m.ruleId)).not.toContain(rule);
  });

  it('tells the author what to do instead', async () => {
    const [clock] = errors(await lint('export const t = Date.now();', PROBE));
    expect(clock?.message).toContain('domain/ takes a Clock as an argument');
    const [random] = errors(await lint('export const r = Math.random();', PROBE));
    expect(random?.message).toContain('domain/ takes a random source as an argument');
    const [env] = errors(await lint('export const e = process.env;', PROBE));
    expect(env?.message).toContain('domain/ takes a Clock / random source');
  });

  it.each(ALLOWED)('does not report %s', async (_what, code) => {
    expect(await lint(code, PROBE)).toEqual([]);
  });

  it('lets test files under domain/ import vitest', async () => {
    const code = "import { expect, it } from 'vitest';\nit('works', () => expect(1).toBe(1));";
    expect(await lint(code, TEST_PROBE)).toEqual([]);
  });
});

describe('the real domain/ files', () => {
  it('break none of the lint rules', async () => {
    const results = await eslint.lintFiles(['domain']);
    const linted = results.map((r) => r.filePath.slice(ROOT.length + 1).replaceAll('\\', '/'));
    // The check must actually have looked at the domain code, tests included.
    for (const file of [
      'domain/canonical.ts',
      'domain/clock.ts',
      'domain/answers.ts',
      'domain/domain-purity.test.ts',
    ]) {
      expect(linted).toContain(file);
    }
    const problems = results.flatMap((r) =>
      r.messages.map(
        (m) => `${r.filePath.slice(ROOT.length + 1)}:${m.line}:${m.column} ${m.ruleId ?? 'fatal'} ${m.message}`,
      ),
    );
    expect(problems).toEqual([]);
  });
});

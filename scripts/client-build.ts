/**
 * Whether the built client (client/dist) is there and up to date with its sources, and a way to
 * build it (`vite build` only: `npm run build` also type-checks and reports sizes).
 *
 *   tsx scripts/client-build.ts --if-missing   builds when client/dist is missing or incomplete,
 *                                              warns when it is older than its sources (npm prestart)
 *   tsx scripts/client-build.ts --if-stale     also builds when it is older (the browser tests)
 *
 * A build is complete when client/dist/sw.js exists: vite-plugin-pwa writes it last, after
 * every page and asset. Its modification time is the build's time.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const CLIENT_DIST = path.join(REPO_ROOT, 'client', 'dist');
const BUILD_MARKER = path.join(CLIENT_DIST, 'sw.js');
const REQUIRED = ['index.html', path.join('proctor', 'index.html'), 'sw.js', 'manifest.webmanifest'];
/** What the build reads: a change to any of these makes client/dist stale. */
export const BUILD_INPUTS = [
  'client/index.html',
  'client/proctor/index.html',
  'client/src',
  'client/public',
  'client/build',
  'domain',
  'vite.config.ts',
  'package.json',
  'package-lock.json',
];

export type ClientBuildState =
  { state: 'missing'; reason: string } | { state: 'stale'; newer: string } | { state: 'fresh' };

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest file under `entry` (a file or a folder), skipping test files. */
export function newest(entry: string): { file: string; mtimeMs: number } | undefined {
  let stat;
  try {
    stat = statSync(entry);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return { file: entry, mtimeMs: stat.mtimeMs };
  let best: { file: string; mtimeMs: number } | undefined;
  for (const name of readdirSync(entry)) {
    if (name.endsWith('.test.ts')) continue;
    const found = newest(path.join(entry, name));
    if (found && (!best || found.mtimeMs > best.mtimeMs)) best = found;
  }
  return best;
}

export function clientBuildState(): ClientBuildState {
  const missing = REQUIRED.find((f) => mtimeOf(path.join(CLIENT_DIST, f)) === undefined);
  if (missing !== undefined) return { state: 'missing', reason: `client/dist/${missing} is missing` };
  const builtAt = mtimeOf(BUILD_MARKER)!;
  for (const input of BUILD_INPUTS) {
    const found = newest(path.join(REPO_ROOT, input));
    if (found && found.mtimeMs > builtAt) return { state: 'stale', newer: path.relative(REPO_ROOT, found.file) };
  }
  return { state: 'fresh' };
}

/** Runs `vite build`; resolves when it succeeded, rejects with its output when it failed. */
export function buildClient(options: { quiet?: boolean } = {}): Promise<void> {
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'build'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', options.quiet ? 'pipe' : 'inherit', options.quiet ? 'pipe' : 'inherit'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `vite build failed (code ${code}, signal ${signal})${output ? `:\n${output.slice(-4_000)}` : ''}`,
            ),
          ),
    );
  });
}

async function main(args: string[]): Promise<void> {
  const mode = args[0];
  if (mode !== '--if-missing' && mode !== '--if-stale') {
    process.stderr.write('usage: tsx scripts/client-build.ts --if-missing|--if-stale\n');
    process.exit(2);
  }
  const state = clientBuildState();
  if (state.state === 'fresh') return;
  if (state.state === 'stale' && mode === '--if-missing') {
    process.stderr.write(
      `Note: the built client in client/dist is older than ${state.newer}; run \`npm run build\` to rebuild it.\n`,
    );
    return;
  }
  process.stdout.write(
    `Building the examinee app and proctor dashboard (${state.state === 'missing' ? state.reason : `${state.newer} changed`})...\n`,
  );
  await buildClient();
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

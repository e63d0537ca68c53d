/**
 * Whether the portal's built page (portal/dist) is there and up to date with its sources, and a
 * way to build it (`vite build --config portal/vite.config.ts`).
 *
 *   tsx scripts/portal-build.ts --if-missing   builds when portal/dist is missing (npm run portal)
 *   tsx scripts/portal-build.ts --if-stale     also builds when it is older (the portal's browser tests)
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { newest } from './client-build.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const PORTAL_DIST = path.join(REPO_ROOT, 'portal', 'dist');
const MARKER = path.join(PORTAL_DIST, 'index.html');
/** What the build reads. */
const INPUTS = ['portal/page', 'portal/shared', 'portal/vite.config.ts', 'package.json', 'package-lock.json'];

export type PortalBuildState = { state: 'missing' } | { state: 'stale'; newer: string } | { state: 'fresh' };

export function portalBuildState(): PortalBuildState {
  let builtAt: number;
  try {
    builtAt = statSync(MARKER).mtimeMs;
  } catch {
    return { state: 'missing' };
  }
  for (const input of INPUTS) {
    const found = newest(path.join(REPO_ROOT, input));
    if (found && found.mtimeMs > builtAt) return { state: 'stale', newer: path.relative(REPO_ROOT, found.file) };
  }
  return { state: 'fresh' };
}

export function buildPortal(options: { quiet?: boolean } = {}): Promise<void> {
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--config', path.join('portal', 'vite.config.ts')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', options.quiet ? 'pipe' : 'inherit', options.quiet ? 'pipe' : 'inherit'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`portal build failed (code ${code}):\n${output.slice(-4_000)}`)),
    );
  });
}

async function main(args: string[]): Promise<void> {
  const mode = args[0];
  if (mode !== '--if-missing' && mode !== '--if-stale') {
    process.stderr.write('usage: tsx scripts/portal-build.ts --if-missing|--if-stale\n');
    process.exit(2);
  }
  const state = portalBuildState();
  if (state.state === 'fresh') return;
  if (state.state === 'stale' && mode === '--if-missing') {
    process.stderr.write(
      `Note: portal/dist is older than ${state.newer}; run \`npm run build:portal\` to rebuild it.\n`,
    );
    return;
  }
  process.stdout.write(
    `Building the portal's page (${state.state === 'missing' ? 'not built yet' : `${state.newer} changed`})...\n`,
  );
  await buildPortal();
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * Builds the appliance into appliance/dist: esbuild bundles appliance/src/main.ts,
 * appliance/src/cli.ts and the answer-file worker with everything they import from this
 * repository (appliance/src, domain, sync) into one ESM file each (main.js, cli.js,
 * answer-file-worker.js), with source maps that `node --enable-source-maps` uses to name the .ts
 * lines. Packages stay imports of
 * node_modules. It takes well under a second, so `npm start` builds every time.
 *
 *   tsx scripts/appliance-build.ts       builds appliance/dist (npm prestart, npm run build)
 *
 * appliance/dist sits at the same depth as appliance/src, so the paths the appliance finds
 * from `import.meta.dirname` (the repository, examples/, client/dist) are the same from both.
 *
 * The box installs runtime dependencies only (`npm ci --omit=dev`): the build fails when the
 * bundle imports a package that is not in package.json's "dependencies", and when "dependencies"
 * hold a package that the bundle never imports.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build, type Metafile } from 'esbuild';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const APPLIANCE_DIST = path.join(REPO_ROOT, 'appliance', 'dist');
/** What the box runs (systemd/proctor-appliance.service) and `npm start` runs. */
export const APPLIANCE_MAIN = path.join(APPLIANCE_DIST, 'main.js');

export const APPLIANCE_CLI = path.join(APPLIANCE_DIST, 'cli.js');
/**
 * The answer-file worker thread (appliance/src/answer-files/checker.ts) is its own entry: the
 * appliance starts it from appliance/dist/answer-file-worker.js, next to main.js.
 */
const ENTRY_POINTS = [
  { in: 'appliance/src/main.ts', out: 'main' },
  { in: 'appliance/src/cli.ts', out: 'cli' },
  { in: 'appliance/src/answer-files/worker.ts', out: 'answer-file-worker' },
];

/**
 * `npm start`'s command line (package.json), taken apart: its environment assignments and the
 * node flags before appliance/dist/main.js. bench:hall runs the appliance with exactly these, and
 * a box test checks that the systemd unit does too.
 */
export function startCommand(): { env: Record<string, string>; nodeFlags: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  const main = words.indexOf('appliance/dist/main.js');
  if (words[0] !== 'node' || main === -1 || main !== words.length - 1) {
    throw new Error(
      `package.json's start is not "[VAR=value...] node [flags...] appliance/dist/main.js": ${pkg.scripts.start}`,
    );
  }
  return { env, nodeFlags: words.slice(1, main) };
}

/**
 * Development dependencies the bundle may import all the same, each with why it never loads on
 * the box.
 */
const DEV_ONLY_IMPORTS: Record<string, string> = {
  'pouchdb-adapter-memory': 'imported only when the database is in memory (tests)',
};

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The packages the bundle imports that `npm ci --omit=dev` would not install. */
export function missingRuntimeDependencies(metafile: Metafile, dependencies: Record<string, string>): string[] {
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const { path: specifier, external } of output.imports) {
      if (!external || specifier.startsWith('node:') || builtins.has(specifier)) continue;
      const name = packageName(specifier);
      if (!(name in dependencies) && !(name in DEV_ONLY_IMPORTS)) missing.add(name);
    }
  }
  return [...missing].sort();
}

/**
 * The packages in "dependencies" that the bundle never imports: they would only make the box's
 * install bigger (the client's libraries and the build tools are devDependencies: the box runs a
 * client/dist built elsewhere, docs/box.md).
 */
export function unusedRuntimeDependencies(metafile: Metafile, dependencies: Record<string, string>): string[] {
  const imported = new Set<string>();
  for (const output of Object.values(metafile.outputs))
    for (const { path: specifier, external } of output.imports) if (external) imported.add(packageName(specifier));
  return Object.keys(dependencies)
    .filter((name) => !imported.has(name))
    .sort();
}

/**
 * Builds appliance/dist/main.js and cli.js (and their source maps); rejects when it failed.
 * `outdir` puts them elsewhere (a release builds into its staging folder, leaving the checkout's
 * appliance/dist alone).
 */
export async function buildAppliance(
  outdir: string = APPLIANCE_DIST,
): Promise<{ ms: number; bytes: Record<string, number> }> {
  const started = performance.now();
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: ENTRY_POINTS,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const { dependencies } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const missing = missingRuntimeDependencies(result.metafile, dependencies);
  if (missing.length > 0)
    throw new Error(
      `appliance/dist imports ${missing.join(', ')}, not in package.json's "dependencies": ` +
        'the box installs those only (npm ci --omit=dev)',
    );
  const unused = unusedRuntimeDependencies(result.metafile, dependencies);
  if (unused.length > 0)
    throw new Error(
      `package.json's "dependencies" hold ${unused.join(', ')}, which appliance/dist never imports: ` +
        'move them to "devDependencies" (the box installs "dependencies" only)',
    );
  const bytes: Record<string, number> = {};
  for (const [file, output] of Object.entries(result.metafile.outputs))
    if (file.endsWith('.js')) bytes[path.relative(REPO_ROOT, path.resolve(REPO_ROOT, file))] = output.bytes;
  return { ms: performance.now() - started, bytes };
}

async function main(): Promise<void> {
  const { ms, bytes } = await buildAppliance();
  const files = Object.entries(bytes).map(([file, n]) => `${file} ${Math.round(n / 1024)} kB`);
  process.stdout.write(`Built the appliance: ${files.join(', ')} (${Math.round(ms)} ms)\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

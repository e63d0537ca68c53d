/**
 * Prints how much JavaScript a first visit downloads (gzip), for the examinee app and the proctor
 * dashboard, and fails when the examinee's is over the limit (issue 4: under 150 kB with RxDB).
 * First load = the page's module script and every chunk it preloads (Vite lists the entry's
 * static imports as <link rel="modulepreload">). Run by `npm run build` after `vite build`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = path.resolve(import.meta.dirname, '..', 'client', 'dist');
/** kB as Vite prints them: 1,000 bytes. */
export const EXAMINEE_LIMIT_KB = 150;

/** The JavaScript files a page loads up front, as paths under client/dist. */
export function firstLoadScripts(html: string): string[] {
  const urls = [
    ...html.matchAll(/<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g),
  ].map((m) => m[1]!);
  return [...new Set(urls)].map((u) => u.replace(/^\//, ''));
}

function gzipBytes(file: string): number {
  return gzipSync(readFileSync(path.join(DIST, file)), { level: 9 }).length;
}

export function firstLoadKb(page: string): number {
  const html = readFileSync(path.join(DIST, page), 'utf8');
  const scripts = firstLoadScripts(html);
  if (scripts.length === 0) throw new Error(`${page} loads no module script: is it a Vite build?`);
  return scripts.reduce((sum, f) => sum + gzipBytes(f), 0) / 1000;
}

function main(): void {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    process.stderr.write('client/dist/index.html is missing: run `npm run build` first.\n');
    process.exit(2);
  }
  const examinee = firstLoadKb('index.html');
  const proctor = firstLoadKb(path.join('proctor', 'index.html'));
  process.stdout.write(`examinee first load: ${examinee.toFixed(1)} kB gzip (limit ${EXAMINEE_LIMIT_KB} kB)\n`);
  process.stdout.write(`proctor first load: ${proctor.toFixed(1)} kB gzip\n`);
  if (examinee > EXAMINEE_LIMIT_KB) {
    process.stderr.write(
      `The examinee app's first load is ${examinee.toFixed(1)} kB gzip, over the ${EXAMINEE_LIMIT_KB} kB limit.\n`,
    );
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) main();

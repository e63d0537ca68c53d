/**
 * Prints what a first visit downloads, for the examinee app and the proctor dashboard: the
 * JavaScript (gzip; issue 4: the examinee's under 150 kB with RxDB) and the CSS (bytes and gzip;
 * issue 15: each app loads only its own sheets). Fails when the examinee's is over a limit.
 * First load = the page's module script and every chunk it preloads (Vite lists the entry's
 * static imports as <link rel="modulepreload">), and the stylesheets the page links. Run by
 * `npm run build` after `vite build`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = path.resolve(import.meta.dirname, '..', 'client', 'dist');
/** kB as Vite prints them: 1,000 bytes. */
export const EXAMINEE_LIMIT_KB = 150;
/**
 * The examinee's first-load CSS, gzip. 2.1 kB since the split of issue 15 (it was 3.9 kB when the
 * proctor's sheets shipped to every examinee): over 3 kB means something of the proctor's is back.
 */
export const EXAMINEE_CSS_LIMIT_KB = 3;
/** Both apps' first-load CSS before that split (at 89fbe2c), printed beside today's. */
export const CSS_BEFORE_SPLIT = { bytes: 16_293, gzipKb: 3.9 };

/** The JavaScript files a page loads up front, as paths under client/dist. */
export function firstLoadScripts(html: string): string[] {
  const urls = [
    ...html.matchAll(/<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g),
  ].map((m) => m[1]!);
  return [...new Set(urls)].map((u) => u.replace(/^\//, ''));
}

/** The stylesheets a page links (Vite links every CSS file of the entry and its static imports). */
export function firstLoadStylesheets(html: string): string[] {
  const urls = [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]!);
  return [...new Set(urls)].map((u) => u.replace(/^\//, ''));
}

export interface FirstLoad {
  /** JavaScript, gzip, kB. */
  jsKb: number;
  /** CSS as served uncompressed, bytes. */
  cssBytes: number;
  /** CSS, gzip, kB. */
  cssKb: number;
}

function gzipBytes(dist: string, file: string): number {
  return gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
}

export function firstLoad(page: string, dist = DIST): FirstLoad {
  const html = readFileSync(path.join(dist, page), 'utf8');
  const scripts = firstLoadScripts(html);
  if (scripts.length === 0) throw new Error(`${page} loads no module script: is it a Vite build?`);
  const sheets = firstLoadStylesheets(html);
  const sum = (files: string[], size: (f: string) => number) => files.reduce((s, f) => s + size(f), 0);
  return {
    jsKb: sum(scripts, (f) => gzipBytes(dist, f)) / 1000,
    cssBytes: sum(sheets, (f) => readFileSync(path.join(dist, f)).length),
    cssKb: sum(sheets, (f) => gzipBytes(dist, f)) / 1000,
  };
}

function main(): void {
  // An optional argument measures another build (docs/performance.md: the figures before a change).
  const dist = path.resolve(process.argv[2] ?? DIST);
  if (!existsSync(path.join(dist, 'index.html'))) {
    process.stderr.write(`${path.join(dist, 'index.html')} is missing: run \`npm run build\` first.\n`);
    process.exit(2);
  }
  const examinee = firstLoad('index.html', dist);
  const proctor = firstLoad(path.join('proctor', 'index.html'), dist);
  const before = `before the split ${CSS_BEFORE_SPLIT.bytes.toLocaleString('en')} bytes, ${CSS_BEFORE_SPLIT.gzipKb} kB gzip`;
  const css = (f: FirstLoad) => `${f.cssBytes.toLocaleString('en')} bytes, ${f.cssKb.toFixed(1)} kB gzip`;
  process.stdout.write(
    `examinee first load: ${examinee.jsKb.toFixed(1)} kB gzip JavaScript (limit ${EXAMINEE_LIMIT_KB} kB); ` +
      `CSS ${css(examinee)} (limit ${EXAMINEE_CSS_LIMIT_KB} kB; ${before})\n`,
  );
  process.stdout.write(
    `proctor first load: ${proctor.jsKb.toFixed(1)} kB gzip JavaScript; CSS ${css(proctor)} (${before})\n`,
  );
  let over = false;
  if (examinee.jsKb > EXAMINEE_LIMIT_KB) {
    process.stderr.write(
      `The examinee app's first-load JavaScript is ${examinee.jsKb.toFixed(1)} kB gzip, over the ${EXAMINEE_LIMIT_KB} kB limit.\n`,
    );
    over = true;
  }
  if (examinee.cssKb > EXAMINEE_CSS_LIMIT_KB) {
    process.stderr.write(
      `The examinee app's first-load CSS is ${examinee.cssKb.toFixed(1)} kB gzip, over the ${EXAMINEE_CSS_LIMIT_KB} kB limit: ` +
        `does it import a proctor sheet (client/src/examinee/styles.css)?\n`,
    );
    over = true;
  }
  if (over) process.exit(1);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) main();

/**
 * Serves the built PWA from client/dist: the examinee app at /, the proctor dashboard at
 * /proctor/, their hashed assets, the service worker and the web app manifest.
 *
 * Caching: files under /assets/ carry a content hash in their name, so browsers may keep them
 * for a year without asking again; everything else (the pages, /sw.js, the manifest, icons)
 * must be revalidated on every load so that a new build reaches examinees at once. A `.gz`
 * written by the build beside a file is sent to browsers that accept gzip.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, MiddlewareHandler } from 'hono';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/** The Cache-Control header for a path under client/dist (with forward slashes). */
export function cacheControlFor(relativePath: string): string {
  return relativePath.startsWith('assets/') ? IMMUTABLE : REVALIDATE;
}

/** Whether `distDir` holds a build of both apps. */
export function isClientBuilt(distDir: string): boolean {
  return existsSync(path.join(distDir, 'index.html')) && existsSync(path.join(distDir, 'proctor', 'index.html'));
}

/** GET/HEAD handler for the files of a client build; anything else passes on to the next handler. */
export function clientFiles(distDir: string): MiddlewareHandler {
  const root = path.resolve(distDir);
  // serveStatic builds its response before calling onFound, so headers set there would be lost:
  // note what was found and set the headers on the response it returns.
  const found = new WeakMap<Context, string>();
  const files = serveStatic({
    root,
    precompressed: true,
    onFound: (file, c) => {
      found.set(c, file);
    },
  });
  return async (c, next) => {
    // The dashboard's address is the folder, so that relative URLs and the page's scope agree.
    if (c.req.path === '/proctor' && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      return c.redirect(`/proctor/${new URL(c.req.url).search}`, 301);
    }
    const res = await files(c, next);
    const file = found.get(c);
    if (res instanceof Response && file !== undefined) {
      // `file` may be the .gz variant: the cache policy follows the file asked for.
      const asked = path.relative(root, file).replace(/\.gz$/, '').split(path.sep).join('/');
      res.headers.set('Cache-Control', cacheControlFor(asked));
      res.headers.set('X-Content-Type-Options', 'nosniff');
    }
    return res;
  };
}

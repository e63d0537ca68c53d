/** The built page (portal/dist: index.html and Vite's hashed assets), served as files. */
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';
import type { PortalEnv } from './app.js';

export const PORTAL_DIST = path.resolve(import.meta.dirname, '..', 'dist');

export function portalStaticFiles(dist = PORTAL_DIST): (app: Hono<PortalEnv>) => void {
  // serveStatic takes a root relative to the working folder.
  const root = path.relative(process.cwd(), dist) || '.';
  return (app) => {
    app.use(
      '/assets/*',
      serveStatic({
        root,
        onFound: (_path, c) => c.header('cache-control', 'public, max-age=31536000, immutable'),
      }),
    );
    app.get('/', serveStatic({ path: path.join(root, 'index.html') }));
    app.get('/favicon.svg', serveStatic({ path: path.join(root, 'favicon.svg') }));
  };
}

/**
 * `npm run portal`: reads the configuration (PORTAL_*), serves the built page (portal/dist) and
 * the API, and stops cleanly on SIGTERM/SIGINT.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { buildPortalApp } from './app.js';
import { loadPortalConfig } from './config.js';
import { Couch } from './couch.js';
import { PORTAL_DIST, portalStaticFiles } from './static.js';

function main(): void {
  const loaded = loadPortalConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`The portal cannot start:\n  ${loaded.errors.join('\n  ')}\n`);
    process.exit(78);
  }
  const { config } = loaded;
  if (!existsSync(path.join(PORTAL_DIST, 'index.html'))) {
    process.stderr.write(`The portal's page is not built (${PORTAL_DIST}): run npm run build:portal\n`);
    process.exit(78);
  }
  const { app } = buildPortalApp({ config, couch: new Couch(config.couchUrl), staticFiles: portalStaticFiles() });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    process.stdout.write(
      `Portal on http://${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port} ` +
        `for ${new URL(config.couchUrl).host}` +
        `${config.halls.length > 0 ? ` (halls: ${config.halls.join(', ')})` : ''}\n`,
    );
  });
  const stop = () => {
    server.close(() => process.exit(0));
    // Open event streams would keep it waiting.
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();

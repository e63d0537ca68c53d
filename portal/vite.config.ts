/**
 * Builds the portal's page (portal/page) into portal/dist/: index.html and hashed assets, no
 * inline script or style (the portal's CSP allows none). `npm run build:portal`.
 */
import path from 'node:path';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const PAGE = path.join(import.meta.dirname, 'page');

export default defineConfig({
  root: PAGE,
  base: '/',
  publicDir: path.join(PAGE, 'public'),
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // No data: URLs for small assets: the CSP has no data: source.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  plugins: [preact()],
});

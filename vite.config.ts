/**
 * Builds the PWA in client/ into client/dist/: the examinee app at / (client/index.html), the
 * proctor dashboard at /proctor/ (client/proctor/index.html), the service worker /sw.js
 * (client/src/sw.ts, Workbox injectManifest: it precaches every file of the build), the web app
 * manifest and its icons. `npm run build` runs it after the type check and then prints the
 * examinee's first-load size (scripts/report-bundle-size.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { appIcons, PNG_ICONS } from './client/build/icons.js';
import { noRxdbNotice } from './client/build/no-rxdb-notice.js';
import { precompress } from './client/build/precompress.js';
import { en } from './client/src/i18n/en.js';

const ROOT = import.meta.dirname;
const CLIENT = path.join(ROOT, 'client');
/** The client's version is the product's: the appliance refuses clients older than an exam's minimum. */
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export default defineConfig({
  root: CLIENT,
  base: '/',
  publicDir: path.join(CLIENT, 'public'),
  define: { __CLIENT_VERSION__: JSON.stringify(VERSION) },
  build: {
    outDir: path.join(CLIENT, 'dist'),
    emptyOutDir: true,
    // Examinees bring what they have: evergreen browsers of the last few years.
    target: 'es2022',
    rollupOptions: {
      input: {
        examinee: path.join(CLIENT, 'index.html'),
        proctor: path.join(CLIENT, 'proctor', 'index.html'),
      },
    },
  },
  plugins: [
    preact(),
    // RxDB's advertisement for its paid storages out of the examinee's console (docs/client.md).
    noRxdbNotice(),
    appIcons(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // The pages register /sw.js themselves (client/src/shared/service-worker.ts).
      injectRegister: false,
      // The glob below takes every file of the build, icons included.
      includeManifestIcons: false,
      manifest: {
        id: '/',
        name: en.app.name,
        short_name: en.app.shortName,
        description: en.app.description,
        lang: en.lang,
        dir: en.dir,
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1e3a8a',
        icons: [
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
          ...PNG_ICONS.filter((i) => !i.fileName.includes('apple')).map((i) => ({
            src: `/${i.fileName}`,
            sizes: `${i.size}x${i.size}`,
            type: 'image/png',
            purpose: i.maskable ? 'maskable' : 'any',
          })),
        ],
      },
      injectManifest: {
        rollupFormat: 'iife',
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
      },
    }),
    precompress(),
  ],
});

/**
 * The service worker (built to /sw.js by vite-plugin-pwa, injectManifest). It precaches every
 * file of the build, so both apps load and reload with no network; API calls are left to the
 * network. A new build takes over at once (skipWaiting + clientsClaim): "reload to update" must
 * work for an examinee whose client is too old for the exam.
 */
import { clientsClaim } from 'workbox-core';
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
  type PrecacheEntry,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (PrecacheEntry | string)[] };

void self.skipWaiting();
clientsClaim();

// `/` and `/proctor/` are served as their index.html (precacheAndRoute's directoryIndex).
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Any other page address (a query string, a later deep link) opens its app from the precache.
registerRoute(new NavigationRoute(createHandlerBoundToURL('/proctor/index.html'), { allowlist: [/^\/proctor(\/|$)/] }));
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api\//, /^\/proctor(\/|$)/] }),
);

// The receipt-signing public key: a receipt is checked on the device, also offline, with the
// last key the appliance gave.
registerRoute(({ url }) => url.pathname === '/api/receipt-key', new NetworkFirst({ cacheName: 'receipt-key' }));

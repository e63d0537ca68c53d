/**
 * Registers the service worker (client/src/sw.ts, built to /sw.js) that keeps the app on the
 * device. Browsers offer service workers only in a secure context (HTTPS, or http://localhost
 * and 127.0.0.1): on plain HTTP over the hall network the app still runs, it just cannot reload
 * offline (DESIGN.md "Secure context").
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err: unknown) => {
    // Not fatal: the page works without it, only offline reload is lost.
    console.warn('service worker not registered:', err);
  });
}

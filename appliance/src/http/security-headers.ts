/**
 * The headers every response carries (docs/architecture.md "Security headers"): a strict
 * Content-Security-Policy (scripts and styles only from this appliance, never inline, never
 * eval; no framing, no plugins, no <base>), Referrer-Policy no-referrer, nosniff, no framing for
 * old browsers, a Permissions-Policy that gives the camera and microphone to this origin only, and
 * with HTTPS on, Strict-Transport-Security and Cross-Origin-Opener-Policy.
 *
 * A route that answers with a stricter policy of its own (a photo: `default-src 'none'`) keeps it.
 * Service-worker scripts get the app's policy too: a worker's policy comes from its script's
 * response, and the service worker fetches and caches this appliance's files.
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** The policy of the examinee app, the proctor dashboard and everything else the appliance serves. */
export const APP_CSP = policy({
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  // blob: a picture the browser made itself (a camera frame before it is sent).
  'img-src': ["'self'", 'blob:'],
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'worker-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
});

export interface SecurityHeaderOptions {
  /** Strict-Transport-Security max-age, when the app is served over HTTPS; undefined over HTTP. */
  hstsMaxAgeSeconds?: number | undefined;
}

/** Sets the security headers on every response the app gives (after the route has answered). */
export function securityHeaders(options: SecurityHeaderOptions = {}): MiddlewareHandler {
  const hsts = options.hstsMaxAgeSeconds === undefined ? undefined : `max-age=${options.hstsMaxAgeSeconds}`;
  return async (c, next) => {
    await next();
    setSecurityHeaders(c.res.headers, APP_CSP, hsts);
  };
}

/**
 * The same headers for a page with its own policy (the plain-HTTP onboarding page: its style by
 * hash, its script from a file, its one request to the HTTPS side).
 */
export function setSecurityHeaders(headers: Headers, csp: string, hsts?: string): void {
  if (!headers.has('content-security-policy')) headers.set('content-security-policy', csp);
  headers.set('referrer-policy', 'no-referrer');
  headers.set('x-content-type-options', 'nosniff');
  headers.set('x-frame-options', 'DENY');
  headers.set('permissions-policy', 'camera=(self), microphone=(self), geolocation=(), payment=(), usb=()');
  // Over HTTPS only: browsers ignore the opener policy on an untrustworthy origin (plain HTTP at a
  // LAN address) and say so in the console.
  if (hsts !== undefined) {
    headers.set('strict-transport-security', hsts);
    headers.set('cross-origin-opener-policy', 'same-origin');
  }
}

/** A Content-Security-Policy value from its directives. */
export function policy(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

/** The CSP source that lets exactly this inline <style> element's text apply. */
export function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

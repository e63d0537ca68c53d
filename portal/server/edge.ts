/**
 * The portal's HTTP edge: its security headers, the same-origin rule for writes, one refusal
 * shape, and JSON bodies read with a limit and validated (zod) before anything trusts them.
 *
 * Headers (as the appliance's, docs/architecture.md "Security headers", with no camera): a CSP
 * with scripts, styles and connections from the portal only, never inline, never eval, no
 * framing, no plugins, no <base>; no-referrer; nosniff; X-Frame-Options DENY; a Permissions-Policy
 * that gives nothing; over HTTPS, HSTS and Cross-Origin-Opener-Policy.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { PORTAL_ERRORS, type PortalErrorCode } from '../shared/api.js';

export const PORTAL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(https: boolean): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    if (!h.has('content-security-policy')) h.set('content-security-policy', PORTAL_CSP);
    h.set('referrer-policy', 'no-referrer');
    h.set('x-content-type-options', 'nosniff');
    h.set('x-frame-options', 'DENY');
    h.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
    if (!h.has('cache-control') && c.req.path.startsWith('/api/')) h.set('cache-control', 'no-store');
    if (https) {
      h.set('strict-transport-security', 'max-age=31536000');
      h.set('cross-origin-opener-policy', 'same-origin');
    }
  };
}

export function refuse(
  c: Context,
  code: PortalErrorCode,
  detail?: string,
  extra: Record<string, unknown> = {},
): Response {
  const { status, message } = PORTAL_ERRORS[code];
  return c.json(
    { error: { code, message, ...(detail === undefined ? {} : { detail }) }, ...extra },
    status as ContentfulStatusCode,
  );
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-site requests change nothing: a write's Origin must be the portal's own (PORTAL_ORIGIN
 * behind a proxy, else the request's).
 */
export function sameOriginOnly(configured: string): MiddlewareHandler {
  return async (c, next) => {
    if (STATE_CHANGING.has(c.req.method)) {
      const origin = c.req.header('origin');
      const expected = configured === '' ? new URL(c.req.url).origin : configured;
      if (origin === undefined || origin !== expected)
        return refuse(c, 'origin-mismatch', origin === undefined ? 'no Origin header' : `Origin ${origin}`);
    }
    await next();
  };
}

export type Validated<T> = { ok: true; value: T } | { ok: false; response: Response };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}

/** Members that would reach Object.prototype if copied: refused, not silently dropped. */
const refuseProto = (key: string, value: unknown) => {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new ProtoKey(key);
  return value;
};
class ProtoKey extends Error {}

/** Reads a JSON body of at most `maxBytes` (also when Content-Length lies) and validates it. */
export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes: number,
): Promise<Validated<z.output<S>>> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
    return { ok: false, response: refuse(c, 'unsupported-media-type') };
  if (Number(c.req.header('content-length') ?? '0') > maxBytes)
    return { ok: false, response: refuse(c, 'payload-too-large', `at most ${maxBytes} bytes`) };
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = c.req.raw.body?.getReader();
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        return { ok: false, response: refuse(c, 'payload-too-large', `at most ${maxBytes} bytes`) };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, response: refuse(c, 'bad-request', 'the body could not be read') };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)), refuseProto);
  } catch (err) {
    if (err instanceof ProtoKey)
      return { ok: false, response: refuse(c, 'validation-failed', `member "${err.message}"`) };
    return { ok: false, response: refuse(c, 'invalid-json') };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, response: refuse(c, 'validation-failed', describe(parsed.error)) };
  return { ok: true, value: parsed.data as z.output<S> };
}

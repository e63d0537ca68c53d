/**
 * A proctor's own device, as the login limits know it (sign-in-guard.ts): after a good sign-in the
 * device gets a `__Host-proctor-device` cookie `<payload>.<mac>`, both base64url; payload is JSON
 * { u: username, d: device id (128 random bits), i: issued at (epoch s) } and mac is
 * HMAC-SHA256 with a key derived from the appliance's session key, so the cookie outlives a
 * restart (the attack it answers: after a restart anyone could keep `chief` out). It grants
 * nothing but its own budget of wrong passwords: a session still needs the password.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../../domain/clock.js';

export const PROCTOR_DEVICE_COOKIE = '__Host-proctor-device';
/** How long a device stays known without signing in again (each good sign-in renews it). */
export const DEVICE_COOKIE_MAX_DAYS = 180;
const DAY_S = 24 * 60 * 60;

const payloadSchema = z.strictObject({ u: z.string().max(64), d: z.string().max(64), i: z.number().int() });

export class ProctorDevices {
  private readonly key: Buffer;

  constructor(
    sessionKey: Buffer,
    private readonly clock: Clock,
  ) {
    this.key = createHmac('sha256', sessionKey).update('proctor-device-cookie/v1').digest();
  }

  /** A cookie value naming this device as `username`'s (the same device id when it had one). */
  issue(username: string, deviceId = randomBytes(16).toString('base64url')): string {
    const payload = Buffer.from(
      JSON.stringify({ u: username, d: deviceId, i: Math.floor(this.clock.now() / 1000) }),
      'utf8',
    ).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The device id of a good, unexpired cookie of `username`, else undefined. */
  deviceOf(cookie: string | undefined, username: string): string | undefined {
    const claims = this.read(cookie);
    return claims?.u === username ? claims.d : undefined;
  }

  /** The device id of any good, unexpired cookie (kept when another proctor signs in on it). */
  read(cookie: string | undefined): { u: string; d: string } | undefined {
    if (cookie === undefined || cookie.length > 512) return undefined;
    const dot = cookie.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = cookie.slice(0, dot);
    const mac = Buffer.from(cookie.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    try {
      const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      if (!parsed.success) return undefined;
      const age = Math.floor(this.clock.now() / 1000) - parsed.data.i;
      // A clock set back makes a cookie look young, never invalid.
      return age <= DEVICE_COOKIE_MAX_DAYS * DAY_S ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

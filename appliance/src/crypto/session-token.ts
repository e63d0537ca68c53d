/**
 * Examinee session tokens: `<payload>.<mac>`, both base64url; payload is JSON
 * { e: examId, s: studentId, d: deviceId, n: sessionNo, p: pending (0|1), i: issued at (epoch s) }
 * and mac is HMAC-SHA256 with the appliance's session key. Tokens hold no state of their own: a
 * token is valid while the examinee's device binding (from the event log) still matches d and n,
 * so a restart keeps sessions and an approved re-login on another device ends the old one; and
 * only until the exam's upload window has closed (exam-day/context.ts: 401 session-expired).
 * `i` is absent from tokens issued before it existed; they end with the window too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const payloadSchema = z.strictObject({
  e: z.string(),
  s: z.string(),
  d: z.string(),
  n: z.number().int(),
  p: z.union([z.literal(0), z.literal(1)]),
  i: z.number().int().nonnegative().optional(),
});
export type SessionClaims = z.infer<typeof payloadSchema>;

export class SessionTokens {
  constructor(private readonly key: Buffer) {}

  issue(claims: SessionClaims): string {
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The claims of a well-formed token with a good MAC, else undefined. */
  read(token: string): SessionClaims | undefined {
    if (token.length > 2_048) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    try {
      const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

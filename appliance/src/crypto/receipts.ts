/**
 * Submission receipts.
 *
 * Format "receipt/v2": { payload, signature, publicKey } where payload is
 *   { format: "receipt/v2", applianceId, hallId, examId, studentId, submissionId, n,
 *     sha256, size, submissionType, receivedAt (ISO 8601 UTC), timing }
 * and timing is the time-up case (domain/time-up.ts): "on-time", "sealed-at-time-up",
 * "sealed-offline", "changed-after-time-up" or "late". "receipt/v1" is the same without timing;
 * receipts already handed out in v1 still verify.
 * signature is base64 Ed25519 over the UTF-8 bytes of canonicalJson(payload), and publicKey is
 * the signer's raw 32-byte Ed25519 public key in base64. A receipt proves what was submitted
 * only against a public key you trust (the appliance's /api/receipt-key, or the institution's
 * record of it), never against the key it carries.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, type Json } from '../../../domain/canonical.js';
import { TIMING_CASES } from '../../../domain/time-up.js';

export const RECEIPT_FORMAT = 'receipt/v2';

const payloadFields = {
  applianceId: z.string(),
  hallId: z.string(),
  examId: z.string(),
  studentId: z.string(),
  submissionId: z.string(),
  n: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  submissionType: z.enum(['manual', 'automatic']),
  receivedAt: z.string(),
};
const receiptV1PayloadSchema = z.strictObject({ format: z.literal('receipt/v1'), ...payloadFields });
export const receiptPayloadSchema = z.strictObject({
  format: z.literal(RECEIPT_FORMAT),
  ...payloadFields,
  timing: z.enum(TIMING_CASES),
});
/** What this appliance signs now. */
export type ReceiptPayload = z.infer<typeof receiptPayloadSchema>;
/** Any receipt that verifies: v2, or v1 from before timing cases. */
export type AnyReceiptPayload = ReceiptPayload | z.infer<typeof receiptV1PayloadSchema>;

export const receiptSchema = z.strictObject({
  payload: receiptPayloadSchema,
  signature: z.string(),
  publicKey: z.string(),
});
/** A receipt as this appliance signs it now (v2). */
export type ReceiptV2 = z.infer<typeof receiptSchema>;
const anyReceiptSchema = z.strictObject({
  payload: z.discriminatedUnion('format', [receiptPayloadSchema, receiptV1PayloadSchema]),
  signature: z.string(),
  publicKey: z.string(),
});
/** A receipt as stored and verified: v2, or v1 from before timing cases. */
export type Receipt = z.infer<typeof anyReceiptSchema>;

/** The raw 32-byte public key, base64. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

/** Reads a public key given as PEM (SPKI) or as raw base64. */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(t, 'base64').toString('base64url') },
    format: 'jwk',
  });
}

export class ReceiptSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** rawPublicKey(publicKey), made once: every receipt carries it. */
  private readonly publicKeyText: string;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    this.publicKeyText = rawPublicKey(this.publicKey);
  }

  sign(payload: ReceiptPayload): ReceiptV2 {
    const bytes = Buffer.from(canonicalJson(payload as unknown as Json), 'utf8');
    return {
      payload,
      signature: sign(null, bytes, this.privateKey).toString('base64'),
      publicKey: this.publicKeyText,
    };
  }
}

export type ReceiptCheck = { ok: true; receipt: Receipt } | { ok: false; reason: string };

/** Checks a receipt (any JSON value, v2 or v1) against a trusted public key. */
export function verifyReceipt(input: unknown, trusted: KeyObject): ReceiptCheck {
  const parsed = anyReceiptSchema.safeParse(input);
  if (!parsed.success)
    return {
      ok: false,
      reason: `not a receipt: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
    };
  const receipt = parsed.data;
  if (receipt.publicKey !== rawPublicKey(trusted)) {
    return { ok: false, reason: 'signed by a different key than the trusted appliance key' };
  }
  const bytes = Buffer.from(canonicalJson(receipt.payload as unknown as Json), 'utf8');
  let good: boolean;
  try {
    good = verify(null, bytes, trusted, Buffer.from(receipt.signature, 'base64'));
  } catch {
    good = false;
  }
  return good ? { ok: true, receipt } : { ok: false, reason: 'signature does not match the receipt content' };
}

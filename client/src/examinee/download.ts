/**
 * GET /api/exam/package with progress: the body is read chunk by chunk and reported as bytes
 * received of Content-Length (total undefined when the appliance sends none). Refusals come back
 * as the same ApiResult values as every other call.
 */
import type { ErrorCode } from '../../../domain/errors.js';
import { t } from '../i18n';
import { apiHeaders } from './api';

export interface Progress {
  received: number;
  total: number | undefined;
}

export type DownloadResult =
  | { ok: true; bytes: Uint8Array; downloadsLeft: number | undefined }
  | { ok: false; code: ErrorCode | 'network-error' | 'unexpected-answer'; message: string };

export async function downloadPackage(token: string, onProgress: (p: Progress) => void): Promise<DownloadResult> {
  const networkError = { ok: false, code: 'network-error', message: t.common.networkError } as const;
  let res: Response;
  try {
    res = await fetch('/api/exam/package', { headers: apiHeaders(token), cache: 'no-store' });
  } catch {
    return networkError;
  }
  if (!res.ok) {
    let body: { error?: { code?: ErrorCode; message?: string } } | undefined;
    try {
      body = (await res.json()) as typeof body;
    } catch {
      body = undefined;
    }
    const code = body?.error?.code;
    if (code === undefined)
      return { ok: false, code: 'unexpected-answer', message: t.common.unexpectedAnswer(res.status) };
    return {
      ok: false,
      code,
      message: t.errors[code] ?? body?.error?.message ?? t.common.unexpectedAnswer(res.status),
    };
  }
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  const left = Number(res.headers.get('x-downloads-left') ?? NaN);
  const chunks: Uint8Array[] = [];
  let received = 0;
  onProgress({ received, total });
  try {
    if (!res.body) throw new Error('no body');
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      onProgress({ received, total });
    }
  } catch {
    return networkError;
  }
  if (total !== undefined && received !== total) return networkError;
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  onProgress({ received, total: received });
  return { ok: true, bytes, downloadsLeft: Number.isFinite(left) ? left : undefined };
}

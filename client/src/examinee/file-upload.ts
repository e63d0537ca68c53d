/**
 * Upload of a file answer (POST /api/exam/files) with progress: XMLHttpRequest, because fetch
 * cannot report how much of a body has been sent. The SHA-256 goes with the file so that the
 * appliance can refuse a damaged upload.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { FileRef } from '../../../domain/answers.js';
import { t } from '../i18n';
import { apiHeaders } from './api';

export type UploadResult = { ok: true; file: FileRef } | { ok: false; message: string };

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  if (globalThis.crypto?.subtle) return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
  return bytesToHex(sha256(bytes));
}

export async function uploadAnswerFile(
  token: string,
  questionId: string,
  file: File,
  onProgress: (sent: number, total: number) => void,
): Promise<UploadResult> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const digest = await sha256Hex(bytes);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/exam/files');
    const headers: Record<string, string> = {
      ...apiHeaders(token),
      accept: 'application/json',
      'content-type': 'application/octet-stream',
      'x-question-id': questionId,
      'x-file-name': encodeURIComponent(file.name),
      'x-content-sha256': digest,
    };
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => resolve({ ok: false, message: t.common.networkError });
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText) as unknown;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && typeof body === 'object' && body !== null) {
        const f = body as { sha256: string; size: number; name?: string };
        resolve({ ok: true, file: { sha256: f.sha256, size: f.size, name: f.name ?? file.name } });
        return;
      }
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = error?.code as keyof typeof t.errors | undefined;
      resolve({
        ok: false,
        message: (code && t.errors[code]) ?? error?.message ?? t.common.unexpectedAnswer(xhr.status),
      });
    };
    xhr.send(bytes);
  });
}

/**
 * Sealing and sending the answers (submission.ts): sealed by the examinee after the review, or
 * automatically at time-up; sent whenever the network allows, the same sealed bytes every time,
 * until the appliance answers with the signed receipt. What the fields still hold is written
 * first, so the sealed file is exactly what is on screen.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApplianceClock } from '../shared/appliance-clock';
import type { AnswerWriter } from './answer-writer';
import type { AttemptDoc, LocalDb } from './local-db';
import { seal, upload } from './submission';
import type { AttemptActions } from './use-attempt';

export function useSubmission(options: {
  db: LocalDb;
  token: string;
  attempt: AttemptDoc;
  actions: AttemptActions;
  writer: AnswerWriter;
  clock: ApplianceClock;
  online: boolean;
  timeUp: boolean;
  /** The appliance refused the upload for good (e.g. 'session-moved'). */
  onRefused?: (code: string) => void;
}) {
  const { db, token, attempt, actions, writer, clock, online, timeUp } = options;
  const [uploadError, setUploadError] = useState('');
  const finished = attempt.sealed !== null || attempt.receipt !== null;

  const sealNow = async (type: 'manual' | 'automatic') => {
    await writer.flush();
    const sheet = (await db.sheets.findOne(attempt.id).exec())?.toMutableJSON();
    if (!sheet) return;
    const sealedAt = clock.now() ?? Date.now();
    await actions.update((a) =>
      a.sealed !== null || a.receipt !== null ? undefined : { sealed: seal(sheet, a, type, sealedAt), lock: null },
    );
  };
  const latestSeal = useRef(sealNow);
  latestSeal.current = sealNow;

  useEffect(() => {
    if (!finished && timeUp) void latestSeal.current('automatic');
  }, [finished, timeUp]);

  const uploading = useRef(false);
  const send = async () => {
    const sealed = attempt.sealed;
    if (!sealed || attempt.receipt !== null || uploading.current || !navigator.onLine) return;
    uploading.current = true;
    setUploadError('');
    const result = await upload(token, sealed);
    uploading.current = false;
    if (result.ok) await actions.update(() => ({ receipt: result.body.receipt }));
    else if (result.code !== 'network-error') {
      setUploadError(result.message);
      options.onRefused?.(result.code);
    }
  };
  const latestSend = useRef(send);
  latestSend.current = send;
  const sealedSha = attempt.sealed?.sha256;
  const hasReceipt = attempt.receipt !== null;
  useEffect(() => {
    void latestSend.current();
  }, [sealedSha, hasReceipt, online]);

  return { sealNow, uploadError, retry: () => void send() };
}

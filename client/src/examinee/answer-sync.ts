/**
 * Replication of the answer sheet with the appliance (RxDB replicateRxCollection; the appliance's
 * handlers are POST /api/exam/answers/push and GET /api/exam/answers/pull, which check that the
 * sheet is the caller's own). The device is where answers live: every change is written to RxDB
 * first and pushed when the network allows; a Wi-Fi drop only changes the indicator.
 *
 * No request is made while the browser says it is offline (a failed request would only be noise
 * in the console); RxDB retries every RETRY_MS and at once when the browser comes back online.
 */
import { Subject } from 'rxjs';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import type { AnswerSheet } from '../../../domain/answer-sheet.js';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import type { SheetDoc, LocalCollections } from './local-db';

const RETRY_MS = 3_000;

/** What the indicator shows. */
export type SyncState =
  /** Every change has reached the appliance. */
  | 'synced'
  /** Changes are on their way. */
  | 'sending'
  /** No network: changes are kept on this device. */
  | 'offline'
  /** The appliance refused the answers (e.g. time over, already submitted). */
  | 'refused';

const toWire = (d: SheetDoc & { _deleted?: boolean }): AnswerSheet => ({
  id: d.id,
  counter: d.counter,
  answers: d.answers,
  flagged: d.flagged,
  _deleted: d._deleted ?? false,
});

class OfflineError extends Error {}

export interface AnswerSync {
  state$: Subject<SyncState>;
  /** The highest counter the appliance has acknowledged. */
  acknowledged(): number;
  stop(): Promise<void>;
}

export function startAnswerSync(
  collections: LocalCollections,
  options: { token: string; sheetId: string; onRefused?: (code: string) => void },
): AnswerSync {
  const state$ = new Subject<SyncState>();
  let acknowledged = 0;
  let refused = false;
  const headers = apiHeaders(options.token);

  const replication: RxReplicationState<SheetDoc, { counter: number }> = replicateRxCollection({
    collection: collections.sheets,
    replicationIdentifier: `answers:${location.origin}:${options.sheetId}`,
    live: true,
    retryTime: RETRY_MS,
    waitForLeadership: false,
    autoStart: true,
    push: {
      batchSize: 1,
      handler: async (rows) => {
        // The empty sheet made when the exam opens (counter 0) is not news to the appliance.
        rows = rows.filter((r) => r.newDocumentState.counter > 0);
        if (refused || rows.length === 0) return [];
        if (!navigator.onLine) {
          state$.next('offline');
          throw new OfflineError('offline');
        }
        state$.next('sending');
        const result = await callApi<{ conflicts: AnswerSheet[] }>('/api/exam/answers/push', {
          method: 'POST',
          headers,
          json: {
            rows: rows.map((r) => ({
              newDocumentState: toWire(r.newDocumentState),
              ...(r.assumedMasterState ? { assumedMasterState: toWire(r.assumedMasterState) } : {}),
            })),
          },
        });
        if (!result.ok) {
          if (result.code === 'network-error') {
            state$.next('offline');
            throw new OfflineError(result.message);
          }
          // A refusal will not change by sending again: stop pushing, tell the screen.
          refused = true;
          state$.next('refused');
          options.onRefused?.(result.code);
          return [];
        }
        const conflicts = result.body.conflicts;
        if (conflicts.length === 0) {
          for (const r of rows) acknowledged = Math.max(acknowledged, r.newDocumentState.counter);
          state$.next('synced');
        }
        return conflicts;
      },
    },
    pull: {
      batchSize: 1,
      handler: async (checkpoint) => {
        if (!navigator.onLine) throw new OfflineError('offline');
        const since = checkpoint?.counter ?? 0;
        const result = await callApi<{ documents: AnswerSheet[]; checkpoint: { counter: number } }>(
          `/api/exam/answers/pull?counter=${since}`,
          { headers },
        );
        if (!result.ok) throw new OfflineError(result.message);
        for (const d of result.body.documents) acknowledged = Math.max(acknowledged, d.counter);
        return { documents: result.body.documents, checkpoint: result.body.checkpoint };
      },
    },
  });
  // Errors are the retry loop's business; the indicator already shows them.
  replication.error$.subscribe(() => undefined);

  const online = () => {
    state$.next('sending');
    void replication.reSync();
    // With nothing new to push the push handler is not called: say "synced" once in sync.
    void replication.awaitInSync().then(
      () => {
        if (navigator.onLine && !refused) state$.next('synced');
      },
      () => undefined,
    );
  };
  const offline = () => state$.next('offline');
  window.addEventListener('online', online);
  window.addEventListener('offline', offline);
  if (!navigator.onLine) queueMicrotask(offline);

  return {
    state$,
    acknowledged: () => acknowledged,
    async stop() {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      await replication.cancel();
    },
  };
}

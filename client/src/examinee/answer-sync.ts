/**
 * Replication of the answer sheet with the appliance (RxDB replicateRxCollection; the appliance's
 * handlers are POST /api/exam/answers/push and GET /api/exam/answers/pull, which check that the
 * sheet is the caller's own). The device is where answers live: every change is written to RxDB
 * first (answer-writer.ts) and pushed when the network allows; a Wi-Fi drop only changes the
 * indicator.
 *
 * What the indicator needs is reported as a value: the highest counter the appliance is known to
 * hold (from a push it accepted, a pull, or the replication being in sync), and the problem, if
 * any ('offline': no network or no answer from the appliance; 'refused': the appliance no longer
 * takes answers). Whether the answers are saved follows from the counter of the device's sheet
 * (useAnswerSaving in use-answer-sheet.ts); the event stream has nothing to do with it.
 *
 * No request is made while the browser says it is offline (a failed request would only be noise
 * in the console); RxDB retries every RETRY_MS (1 s) and at once when the browser comes back online.
 */
import { BehaviorSubject } from 'rxjs';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import { migrateSheetV0 } from './local-db';
import type { AnswerSheet } from '../../../domain/answer-sheet.js';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import type { SheetDoc, LocalCollections } from './local-db';

/**
 * The pause before a failed push or pull is tried again. Short, so that the answers are "saved"
 * within about a second of the box being back after a restart (box-restart.test.ts); a device
 * that the browser says is offline makes no request at all while it waits.
 */
const RETRY_MS = 1_000;

export type SyncProblem = 'offline' | 'refused' | undefined;

export interface SyncReport {
  /** The highest sheet counter the appliance holds, as far as this device knows. */
  acknowledged: number;
  problem: SyncProblem;
}

const toWire = (d: SheetDoc & { _deleted?: boolean }): AnswerSheet => ({
  id: d.id,
  counter: d.counter,
  answers: d.answers,
  flagged: d.flagged,
  versions: d.versions,
  _deleted: d._deleted ?? false,
});

/** A sheet from the appliance as the device keeps it (an older appliance sends no versions). */
const fromWire = (d: AnswerSheet): SheetDoc & { _deleted: boolean } => ({
  ...(d.versions ? { ...d, versions: d.versions } : migrateSheetV0(d)),
  _deleted: false,
});

class OfflineError extends Error {}

export interface AnswerSync {
  report$: BehaviorSubject<SyncReport>;
  stop(): Promise<void>;
}

export function startAnswerSync(
  collections: LocalCollections,
  options: { token: string; sheetId: string; onRefused?: (code: string) => void },
): AnswerSync {
  const report$ = new BehaviorSubject<SyncReport>({
    acknowledged: 0,
    problem: navigator.onLine ? undefined : 'offline',
  });
  const report = (change: Partial<SyncReport>) => {
    const now = report$.value;
    const next = {
      acknowledged: Math.max(now.acknowledged, change.acknowledged ?? 0),
      problem: now.problem === 'refused' ? 'refused' : 'problem' in change ? change.problem : now.problem,
    };
    if (next.acknowledged !== now.acknowledged || next.problem !== now.problem) report$.next(next);
  };
  const refused = () => report$.value.problem === 'refused';
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
        if (refused() || rows.length === 0) return [];
        if (!navigator.onLine) {
          report({ problem: 'offline' });
          throw new OfflineError('offline');
        }
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
          if (result.code === 'network-error' || result.status >= 500) {
            report({ problem: 'offline' });
            throw new OfflineError(result.message);
          }
          // A refusal will not change by sending again: stop pushing, tell the screen.
          report({ problem: 'refused' });
          options.onRefused?.(result.code);
          return [];
        }
        const conflicts = result.body.conflicts;
        const held = Math.max(0, ...conflicts.map((c) => c.counter));
        report({
          problem: undefined,
          acknowledged: conflicts.length === 0 ? Math.max(...rows.map((r) => r.newDocumentState.counter)) : held,
        });
        return conflicts.map(fromWire);
      },
    },
    pull: {
      batchSize: 1,
      handler: async (checkpoint) => {
        if (!navigator.onLine) {
          report({ problem: 'offline' });
          throw new OfflineError('offline');
        }
        const since = checkpoint?.counter ?? 0;
        const result = await callApi<{ documents: AnswerSheet[]; checkpoint: { counter: number } }>(
          `/api/exam/answers/pull?counter=${since}`,
          { headers },
        );
        if (!result.ok) {
          // No answer from the appliance although the browser says it is online (the Wi-Fi is
          // there, the box is not): as offline as a cut network.
          if (result.code === 'network-error' || result.status >= 500) report({ problem: 'offline' });
          throw new OfflineError(result.message);
        }
        report({ problem: undefined, acknowledged: Math.max(0, ...result.body.documents.map((d) => d.counter)) });
        return { documents: result.body.documents.map(fromWire), checkpoint: result.body.checkpoint };
      },
    },
  });
  // Errors are the retry loop's business; the indicator already shows them.
  replication.error$.subscribe(() => undefined);

  /** In sync with nothing left to push: the appliance holds the device's sheet as it is now. */
  const whenInSync = () =>
    void replication.awaitInSync().then(
      async () => {
        if (!navigator.onLine || refused()) return;
        const sheet = await collections.sheets.findOne(options.sheetId).exec();
        report({ problem: undefined, acknowledged: sheet?.counter ?? 0 });
      },
      () => undefined,
    );
  whenInSync();
  const online = () => {
    report({ problem: undefined });
    void replication.reSync();
    whenInSync();
  };
  const offline = () => report({ problem: 'offline' });
  window.addEventListener('online', online);
  window.addEventListener('offline', offline);

  return {
    report$,
    async stop() {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      await replication.cancel();
    },
  };
}

/**
 * The monitor's live state: GET .../monitor is a server-sent event stream (a `snapshot` of exam
 * info, every row and the messages, then `row`, `exam`, `message` and `ping`). Read with the
 * shared fetch-based reader, which reconnects with backoff; each reconnect starts with a fresh
 * snapshot, so nothing missed while away is lost. The proctor's session is the cookie.
 *
 * An `exam` update (a change for everyone, such as a time extension for all) changes every
 * row's deadline, but the stream sends no rows for it: the rows are then fetched once
 * (GET .../participants), a burst of such updates costing one fetch.
 *
 * Row changes are coalesced (row-batch.ts): the rows change at most once per animation frame,
 * however many arrive, so the table re-renders at most once a frame.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { openEventStream, type StreamState } from '../shared/event-stream';
import {
  monitorUrl,
  participants,
  type ExamInfo,
  type MonitorMessage,
  type MonitorSnapshot,
  type ParticipantRow,
} from './api';
import { useLatest } from '../shared/use-latest';
import { applyRowChanges, rowBatcher, type RowBatcher } from './row-batch';

export type LiveState = StreamState | 'refused';

export interface MonitorData {
  state: LiveState;
  info: ExamInfo | undefined;
  rows: ParticipantRow[];
  messages: MonitorMessage[];
  /** Appliance time minus this device's time (ms), from the snapshot and each ping. */
  offsetMs: number;
  /** Puts a row the appliance answered (an action's result) in place at once. */
  applyRow: (row: ParticipantRow) => void;
  applyInfo: (info: ExamInfo) => void;
}

export function useMonitor(examId: string, onSignedOut: () => void): MonitorData {
  const signedOut = useLatest(onSignedOut);
  const [state, setState] = useState<LiveState>('connecting');
  const [info, setInfo] = useState<ExamInfo | undefined>(undefined);
  const [rows, setRows] = useState<ParticipantRow[]>([]);
  const [messages, setMessages] = useState<MonitorMessage[]>([]);
  const [offsetMs, setOffset] = useState(0);
  const batcher = useRef<RowBatcher | undefined>(undefined);

  useEffect(() => {
    const batch = rowBatcher((changes) => setRows((current) => applyRowChanges(current, changes)));
    batcher.current = batch;
    let refreshing: Promise<void> | undefined;
    let again = false;
    const refreshRows = () => {
      if (refreshing) {
        again = true;
        return;
      }
      refreshing = participants(examId).then((r) => {
        if (r.ok) setRows(r.body.rows);
        refreshing = undefined;
        if (again) {
          again = false;
          refreshRows();
        }
      });
    };
    const close = openEventStream({
      url: monitorUrl(examId),
      headers: {},
      onState: setState,
      onRefused: (status) => {
        setState('refused');
        if (status === 401) signedOut.current();
      },
      onEvent: (event, data) => {
        if (event === 'snapshot') {
          const snap = data as MonitorSnapshot;
          setInfo(snap.exam);
          // The snapshot holds every row as it is now: rows queued before it are older.
          batch.clear();
          setRows(snap.rows);
          setMessages(snap.messages);
          setOffset(snap.exam.serverNow - Date.now());
        } else if (event === 'row') {
          batch.push(data as ParticipantRow);
        } else if (event === 'exam') {
          setInfo(data as ExamInfo);
          refreshRows();
        } else if (event === 'message') {
          const message = data as MonitorMessage;
          setMessages((current) =>
            current.some((m) => m.messageId === message.messageId) ? current : [...current, message],
          );
        } else if (event === 'ping') {
          const serverNow = (data as { serverNow?: unknown }).serverNow;
          if (typeof serverNow === 'number') setOffset(serverNow - Date.now());
        }
      },
    });
    return () => {
      close();
      batch.clear();
    };
  }, [examId, signedOut]);

  // An action's answer is in place at once, after any older streamed rows still queued.
  const applyRow = useCallback((row: ParticipantRow) => {
    const batch = batcher.current;
    if (batch === undefined) return;
    batch.push(row);
    batch.flush();
  }, []);
  return { state, info, rows, messages, offsetMs, applyRow, applyInfo: setInfo };
}

/** The appliance's time now, re-rendering every `everyMs`. */
export function useApplianceNow(offsetMs: number, everyMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now() + offsetMs);
  useEffect(() => {
    setNow(Date.now() + offsetMs);
    const timer = setInterval(() => setNow(Date.now() + offsetMs), everyMs);
    return () => clearInterval(timer);
  }, [offsetMs, everyMs]);
  return now;
}

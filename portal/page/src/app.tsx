/**
 * The portal page: sign in with the institution's CouchDB user, then every hall at once — its
 * boxes' heartbeats, each exam's tracking totals per hall, one exam's examinees, publishing, and
 * the collect download — kept live by the server's event stream.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { HallChanged, OverviewResponse, SessionInfo } from '../../shared/api.js';
import { api, ApiError } from './api.js';
import { ExamineesPanel } from './examinees.js';
import { ExamsPanel, HallsPanel } from './halls.js';
import { PublishPanel } from './publish.js';
import type { Selection } from './selection.js';
import { SignIn } from './sign-in.js';

type Live = 'connecting' | 'live' | 'reconnecting';

/** The overview, read again on demand; `version` counts the changes the live stream reported. */
function useOverview(session: SessionInfo | null | undefined, onSignedOut: () => void) {
  const [overview, setOverview] = useState<OverviewResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const loading = useRef(false);
  const again = useRef(false);
  const refresh = useCallback(async () => {
    if (loading.current) {
      again.current = true;
      return;
    }
    loading.current = true;
    try {
      do {
        again.current = false;
        setOverview(await api<OverviewResponse>('/api/overview'));
        setError(undefined);
      } while (again.current);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) onSignedOut();
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      loading.current = false;
    }
  }, [onSignedOut]);
  useEffect(() => {
    if (session) void refresh();
    else setOverview(undefined);
  }, [session, refresh]);
  return { overview, error, refresh };
}

/** The server's event stream while signed in: each `hall-changed` is handed to `onChange`. */
function useLive(
  session: SessionInfo | null | undefined,
  onChange: (c: HallChanged) => void,
  onEnded: () => void,
  onReconnected: () => void,
) {
  const [state, setState] = useState<Live>('connecting');
  const handler = useRef(onChange);
  handler.current = onChange;
  const ended = useRef(onEnded);
  ended.current = onEnded;
  const reconnected = useRef(onReconnected);
  reconnected.current = onReconnected;
  useEffect(() => {
    if (!session) return;
    const source = new EventSource('/api/live');
    let wasDown = false;
    source.addEventListener('ready', () => {
      setState('live');
      // Changes made while the stream was down were not reported: read everything again.
      if (wasDown) reconnected.current();
      wasDown = false;
    });
    source.addEventListener('hall-changed', (e) => handler.current(JSON.parse((e as MessageEvent<string>).data)));
    source.addEventListener('session-ended', () => {
      source.close();
      ended.current();
    });
    source.onerror = () => {
      wasDown = true;
      setState('reconnecting');
    };
    return () => source.close();
  }, [session]);
  return state;
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [selected, setSelected] = useState<Selection | undefined>();
  const [examineesVersion, setExamineesVersion] = useState(0);
  const signedOut = useCallback(() => setSession(null), []);
  const { overview, error, refresh } = useOverview(session, signedOut);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const pendingRefresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onChange = useCallback(
    (changed: HallChanged) => {
      clearTimeout(pendingRefresh.current);
      pendingRefresh.current = setTimeout(() => void refresh(), 150);
      if (selectedRef.current?.hallId === changed.hallId) setExamineesVersion((v) => v + 1);
    },
    [refresh],
  );
  const reconnected = useCallback(() => {
    void refresh();
    setExamineesVersion((v) => v + 1);
  }, [refresh]);
  const live = useLive(session, onChange, signedOut, reconnected);

  useEffect(() => {
    api<SessionInfo>('/api/session').then(setSession, () => setSession(null));
  }, []);

  // Boxes turn amber and red with time alone: read again every 30 s as well.
  useEffect(() => {
    if (!session) return;
    const timer = setInterval(() => void refresh(), 30_000);
    return () => clearInterval(timer);
  }, [session, refresh]);

  const signOut = async () => {
    await api('/api/session', { method: 'DELETE' }).catch(() => undefined);
    setSelected(undefined);
    setSession(null);
  };

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;

  return (
    <>
      <header class="top">
        <h1>Exam halls</h1>
        <p class="who">
          Signed in as <strong>{session.name}</strong>
          {session.admin ? ' (admin)' : ''}
          <span class={`live live-${live}`} role="status">
            {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
          </span>
          <button type="button" class="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </p>
      </header>
      <main>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {!overview ? (
          <p class="loading">Reading the halls…</p>
        ) : (
          <>
            {overview.note && <p class="note">{overview.note}</p>}
            <HallsPanel overview={overview} />
            <ExamsPanel overview={overview} selected={selected} onSelect={setSelected} />
            {selected && (
              <ExamineesPanel
                selection={selected}
                admin={session.admin}
                version={examineesVersion}
                onClose={() => setSelected(undefined)}
                onSignedOut={signedOut}
              />
            )}
            {session.admin && <PublishPanel overview={overview} onPublished={() => void refresh()} />}
          </>
        )}
      </main>
    </>
  );
}

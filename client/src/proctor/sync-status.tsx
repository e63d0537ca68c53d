/**
 * The Sync status tab: GET /api/sync/status (appliance/src/http/sync-routes.ts, sync/), asked
 * every 5 seconds while the tab is open: the state as a coloured badge with an icon and words, the
 * last successful sync and the last contact with the central server (the link works although
 * something is still to send), what waits to be sent, a progress bar while pushing, the last
 * error in plain words, the records the central server refused (they wait on the box); "Sync now" tries the central server at once (POST /api/sync/now) instead
 * of at the next retry. Without a central server configured it says so, and what each state means.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { syncNow, syncStatus, type SyncStatus } from './api';
import { dateTime } from './format';

const S = t.proctor.sync;
const POLL_MS = 5_000;
const STATES = ['off', 'idle', 'syncing', 'offline', 'error'] as const;
const ICONS: Record<string, string> = { off: '○', idle: '✓', syncing: '⟳', offline: '⚠', error: '✕' };

function SyncBadge(props: { state: string }) {
  return (
    <span class={`sync-badge sync-${props.state}`} data-state={props.state}>
      <span aria-hidden="true">{ICONS[props.state] ?? '•'} </span>
      {S.states[props.state] ?? props.state}
    </span>
  );
}

/** Records the central server refused: they wait on the box until it takes them. */
function RefusedList(props: { status: SyncStatus }) {
  const { refused, refusedCount } = props.status;
  return (
    <section class="sync-refused alert" aria-labelledby="sync-refused-heading" data-testid="sync-refused">
      <h4 id="sync-refused-heading">
        <span aria-hidden="true">✕ </span>
        {S.refusedHeading(refusedCount)}
      </h4>
      <p>{S.refusedHint}</p>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">{S.refusedColumns.id}</th>
              <th scope="col">{S.refusedColumns.reason}</th>
              <th scope="col">{S.refusedColumns.at}</th>
            </tr>
          </thead>
          <tbody>
            {refused.map((d) => (
              <tr key={d.id}>
                <td>
                  <code>{d.id}</code>
                </td>
                <td>{d.reason}</td>
                <td>{dateTime(d.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {refusedCount > refused.length && <p class="muted">{S.refusedMore(refusedCount - refused.length)}</p>}
    </section>
  );
}

export function SyncStatusTab() {
  const [status, setStatus] = useState<SyncStatus | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const load = async () => {
    const r = await syncStatus();
    if (r.ok) {
      setStatus(r.body);
      setError(undefined);
    } else setError(r.message);
  };
  const [checkedAt, setCheckedAt] = useState<number | undefined>(undefined);
  const [asked, setAsked] = useState(false);
  const now = async () => {
    setAsked(true);
    const r = await syncNow();
    if (r.ok) {
      setStatus(r.body);
      setError(undefined);
    } else setError(r.message);
    setCheckedAt(Date.now());
    // The answer comes within a few seconds: look again sooner than the 5 s poll.
    setTimeout(() => void load().then(() => setAsked(false)), 1_500);
  };
  useEffect(() => {
    void load().then(() => setCheckedAt(Date.now()));
    const timer = setInterval(() => void load().then(() => setCheckedAt(Date.now())), POLL_MS);
    return () => clearInterval(timer);
  }, []);

  return (
    <div class="sync-status stack" data-testid="sync-status">
      <h3>{S.heading}</h3>
      {error !== undefined && (
        <p role="alert" class="alert">
          {error}
        </p>
      )}
      {status === undefined && error === undefined && <p>{t.common.loading}</p>}
      {status !== undefined && (
        <>
          {!status.configured && (
            <div class="notice">
              <p>
                <strong>{S.notConfigured}</strong>
              </p>
              <p>{S.notConfiguredDetail}</p>
            </div>
          )}
          <dl class="facts">
            <div>
              <dt>{S.state}</dt>
              <dd>
                <SyncBadge state={status.state} />
              </dd>
            </div>
            {status.configured && (
              <>
                <div>
                  <dt>{S.lastSuccess}</dt>
                  <dd>{status.lastSuccessAt === null ? S.never : dateTime(status.lastSuccessAt)}</dd>
                </div>
                <div>
                  <dt>{S.lastContact}</dt>
                  <dd data-testid="sync-last-contact">
                    {status.lastContactAt === null ? S.never : dateTime(status.lastContactAt)}
                  </dd>
                </div>
                {status.pending !== null && (
                  <div>
                    <dt>{S.pending}</dt>
                    <dd>{S.pendingValue(status.pending.docs, Math.ceil(status.pending.bytes / 1024))}</dd>
                  </div>
                )}
                {status.progress !== undefined && (
                  <div>
                    <dt>
                      <label for="sync-progress">{S.progress}</label>
                    </dt>
                    <dd>
                      <progress id="sync-progress" max={status.progress.total} value={status.progress.done} />
                    </dd>
                  </div>
                )}
                {status.lastError !== null && (
                  <div>
                    <dt>{S.lastError}</dt>
                    <dd class="alert">{status.lastError}</dd>
                  </div>
                )}
              </>
            )}
          </dl>
          {status.refusedCount > 0 && <RefusedList status={status} />}
          {checkedAt !== undefined && <p class="muted">{S.checkedAt(new Date(checkedAt).toLocaleTimeString())}</p>}
          <div class="button-row">
            {status.configured && (
              <button type="button" onClick={() => void now()} disabled={asked}>
                {S.syncNow}
              </button>
            )}
            <button type="button" class="secondary" onClick={() => void load().then(() => setCheckedAt(Date.now()))}>
              {S.refresh}
            </button>
          </div>
          <p class="visually-hidden" aria-live="polite">
            {asked ? S.syncNowAsked : ''}
          </p>
        </>
      )}
      <section aria-labelledby="sync-states-heading">
        <h4 id="sync-states-heading">{S.statesHeading}</h4>
        <ul class="sync-legend">
          {STATES.map((s) => (
            <li key={s}>
              <SyncBadge state={s} /> <span class="muted">{S.stateHints[s]}</span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

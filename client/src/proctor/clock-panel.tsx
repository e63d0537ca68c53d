/**
 * The appliance's clock on the dashboard: while it is not trusted (no NTP synchronisation, no
 * proctor's confirmation) no exam opens, so a prominent panel shows the appliance's time beside
 * this device's and lets a chief proctor confirm it, or set it from this device
 * (POST /api/proctor/clock). Invigilators see it too, with whom to ask. Checked on every visit
 * and every 15 s while untrusted; hidden once trusted.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { callApi } from '../shared/api';
import type { Proctor } from './api';

interface TimeAnswer {
  now: number;
  trusted: boolean;
  source: string;
}

const CHECK_MS = 15_000;

export function ClockPanel(props: { proctor: Proctor }) {
  /** The appliance's answer and this device's time when it came. */
  const [seen, setSeen] = useState<{ time: TimeAnswer; at: number } | undefined>(undefined);
  const [tick, setTick] = useState(() => Date.now());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);

  const check = async () => {
    const sentAt = Date.now();
    const result = await callApi<TimeAnswer>('/api/time');
    const at = Date.now();
    // The appliance's time as of mid-flight, like the lobby's clock.
    if (result.ok) setSeen({ time: { ...result.body, now: result.body.now + (at - sentAt) / 2 }, at });
  };

  // Asked again every CHECK_MS until the clock is trusted.
  const trusted = seen?.time.trusted === true;
  useEffect(() => {
    void check();
    const again = setInterval(() => {
      setTick(Date.now());
      if (!trusted) void check();
    }, CHECK_MS);
    const second = setInterval(() => setTick(Date.now()), 1_000);
    return () => {
      clearInterval(again);
      clearInterval(second);
    };
  }, [trusted]);

  const send = async (body: { action: 'confirm' } | { action: 'set'; now: number }) => {
    setBusy(true);
    setError('');
    const result = await callApi<TimeAnswer>('/api/proctor/clock', { method: 'POST', json: body });
    setBusy(false);
    if (!result.ok) {
      setError(result.message);
      return;
    }
    setDone(true);
    setSeen({ time: result.body, at: Date.now() });
  };

  if (done)
    return (
      <p class="notice-ok" role="status">
        {t.box.confirmed}
      </p>
    );
  if (seen === undefined || seen.time.trusted) return null;
  const applianceNow = seen.time.now + (tick - seen.at);
  const format = new Intl.DateTimeFormat(t.lang, { dateStyle: 'medium', timeStyle: 'medium' });
  const chief = props.proctor.role === 'chief';
  return (
    <section class="clock-panel" aria-labelledby="clock-heading" data-testid="clock-panel">
      <h2 id="clock-heading">{t.box.clockHeading}</h2>
      <p>{t.box.clockIntro}</p>
      <dl class="clock-compare">
        <div>
          <dt>{t.box.applianceTime}</dt>
          <dd>{format.format(applianceNow)}</dd>
        </div>
        <div>
          <dt>{t.box.deviceTime}</dt>
          <dd>{format.format(tick)}</dd>
        </div>
      </dl>
      <p>{t.box.difference(Math.round((tick - applianceNow) / 1000))}</p>
      {chief ? (
        <div class="clock-actions">
          <button type="button" disabled={busy} onClick={() => void send({ action: 'confirm' })}>
            {busy ? t.box.working : t.box.confirm}
          </button>
          <button
            type="button"
            class="secondary"
            disabled={busy}
            onClick={() => void send({ action: 'set', now: Date.now() })}
          >
            {t.box.setFromDevice}
          </button>
        </div>
      ) : (
        <p>{t.box.askChief}</p>
      )}
      <p role="alert" class="alert">
        {error}
      </p>
    </section>
  );
}

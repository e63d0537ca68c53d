/**
 * The Exam info tab: everything GET .../exams/:examId gives (ExamSoft's assessment information
 * and tracking totals), the exam-wide settings a chief may change (late-login limit, time
 * extension for everyone, disabled hardware checks: PATCH .../settings), proctoring snapshots
 * (proctoring-info.tsx), verification passwords
 * (shown once), and the session report, event log and Safe Exam Browser configuration.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { EXAMINEE_STATUSES } from '../../../domain/examinee-state.js';
import { VERIFICATION_MODES, type VerificationMode } from '../../../domain/exam-options.js';
import { MAX_ALLOWED_NETWORKS, parseNetwork } from '../../../domain/networks.js';
import { t } from '../i18n';
import {
  eventLogUrl,
  generatePasswords,
  HARDWARE_CHECKS,
  reportUrl,
  saveExamSettings,
  sebConfigUrl,
  sebInfo,
  type ExamInfo,
  type HardwareCheck,
  type ParticipantRow,
  type SebInfo,
} from './api';
import { dateTime, duration, StatusBadge, WholeNumberField } from './format';
import { ExamPassword } from './exam-password';
import { ProctoringInfo } from './proctoring-info';
import { TrackingTotals } from './tracking-totals';
import { SUMMARY_EVERY_MS, useAtMostEvery } from './use-at-most-every';

const I = t.proctor.info;

function Fact(props: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

export function ExamInfoTab(props: {
  examId: string;
  info: ExamInfo;
  /** The live rows, for the tracking totals. */
  rows: readonly ParticipantRow[];
  chief: boolean;
  /** Appliance time minus this device's (live.ts). */
  offsetMs: number;
  onInfo: (info: ExamInfo) => void;
}) {
  const { info, chief } = props;
  const totalsRows = useAtMostEvery(props.rows, SUMMARY_EVERY_MS);
  const [lateLogin, setLateLogin] = useState(String(info.editable.lateLoginMinutes));
  const [extra, setExtra] = useState(String(info.editable.extraMinutes));
  const [checks, setChecks] = useState<HardwareCheck[]>(info.editable.disabledHardwareChecks);
  const [mode, setMode] = useState<VerificationMode>(info.editable.verificationMode);
  const [networks, setNetworks] = useState(info.editable.allowedNetworks.join('\n'));
  const ranges = networks
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const networkErrors = [
    ...ranges.flatMap((r) => {
      const parsed = parseNetwork(r);
      return parsed.ok ? [] : [parsed.message];
    }),
    ...(ranges.length > MAX_ALLOWED_NETWORKS ? [`at most ${MAX_ALLOWED_NETWORKS} address ranges`] : []),
  ];
  const [settingsNote, setSettingsNote] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [count, setCount] = useState('30');
  const [passwords, setPasswords] = useState<string[] | undefined>(undefined);
  const [passwordsNote, setPasswordsNote] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [seb, setSeb] = useState<SebInfo | undefined>(undefined);
  const [now, setNow] = useState(() => Date.now() + props.offsetMs);

  useEffect(() => {
    void sebInfo(props.examId).then((r) => r.ok && setSeb(r.body));
  }, [props.examId]);
  // The countdown, on the appliance's clock.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now() + props.offsetMs), 1_000);
    return () => clearInterval(timer);
  }, [props.offsetMs]);
  const untilStart = Math.max(0, Date.parse(info.scheduledStart) - now);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const result = await saveExamSettings(props.examId, {
      lateLoginMinutes: Number.parseInt(lateLogin, 10),
      extraMinutes: Number.parseInt(extra, 10),
      disabledHardwareChecks: checks,
      verificationMode: mode,
      allowedNetworks: ranges,
    });
    setBusy(false);
    if (result.ok) {
      props.onInfo(result.body);
      setSettingsNote({ ok: true, text: I.saved });
    } else setSettingsNote({ ok: false, text: result.message });
  };

  const generate = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const result = await generatePasswords(props.examId, Number.parseInt(count, 10));
    setBusy(false);
    if (result.ok) {
      setPasswords(result.body.passwords);
      setPasswordsNote(undefined);
    } else setPasswordsNote(result.message);
  };

  return (
    <div class="exam-info stack">
      <h3 class="visually-hidden">{I.heading}</h3>
      <dl class="facts">
        <Fact term={I.assessmentType}>{info.assessmentType}</Fact>
        <Fact term={I.scheduledStart}>{dateTime(info.scheduledStart)}</Fact>
        <Fact term={I.duration}>{I.minutes(info.durationMinutes)}</Fact>
        <Fact term={I.downloadWindow}>
          {I.windowRange(dateTime(info.downloadWindow.opens), dateTime(info.downloadWindow.closes))}
        </Fact>
        <Fact term={I.timeUntil}>
          <span data-testid="time-until-exam">{untilStart > 0 ? duration(untilStart) : I.started}</span>
        </Fact>
        <Fact term={I.minimumVersion}>{I.minimumVersionValue(info.minimumClientVersion)}</Fact>
        <Fact term={I.uploadDeadline}>{info.uploadDeadline === null ? I.none : dateTime(info.uploadDeadline)}</Fact>
        <Fact term={I.verificationMode}>{I.verificationModes[info.verificationMode]}</Fact>
        <Fact term={I.examHardwareChecks}>
          {info.hardwareChecks.length === 0 ? I.none : info.hardwareChecks.map((c) => t.proctor.hardware[c]).join(', ')}
        </Fact>
        <Fact term={I.examVersion}>
          <span class="mono break">{info.version}</span>
        </Fact>
      </dl>

      <TrackingTotals rows={totalsRows} info={info} headingId="totals-heading" />

      <section aria-labelledby="status-heading">
        <h3 id="status-heading">{I.statusHeading}</h3>
        <ul class="inline-list status-counts">
          {EXAMINEE_STATUSES.map((s) => (
            <li key={s}>
              <StatusBadge status={s} /> {info.statusCounts[s]}
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="settings-heading">
        <h3 id="settings-heading">{I.settingsHeading}</h3>
        <p class="muted">{I.settingsIntro}</p>
        {!chief && <p class="notice">{t.proctor.chiefOnly}</p>}
        <form onSubmit={save}>
          <fieldset disabled={!chief || busy} class="plain stack">
            <WholeNumberField
              id="info-late-login"
              label={I.lateLogin}
              max={1440}
              value={lateLogin}
              onInput={setLateLogin}
            />
            <WholeNumberField id="info-extra" label={I.extraMinutes} max={1440} value={extra} onInput={setExtra} />
            <fieldset class="plain checks">
              <legend>{I.hardwareChecks}</legend>
              {HARDWARE_CHECKS.map((c) => (
                <label class="check" key={c}>
                  <input
                    type="checkbox"
                    checked={checks.includes(c)}
                    onChange={(e) =>
                      setChecks((cur) => (e.currentTarget.checked ? [...cur, c] : cur.filter((x) => x !== c)))
                    }
                  />
                  {t.proctor.hardware[c]}
                </label>
              ))}
            </fieldset>
            <div class="field">
              <label for="info-verification">{I.defaultVerification}</label>
              <select
                id="info-verification"
                value={mode}
                onChange={(e) => setMode(e.currentTarget.value as VerificationMode)}
              >
                {VERIFICATION_MODES.map((m) => (
                  <option key={m} value={m}>
                    {I.verificationModes[m]}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="info-networks">{I.allowedNetworks}</label>
              <textarea
                id="info-networks"
                rows={3}
                spellcheck={false}
                autocapitalize="off"
                aria-describedby="info-networks-hint info-networks-errors"
                aria-invalid={networkErrors.length > 0}
                value={networks}
                onInput={(e) => setNetworks(e.currentTarget.value)}
              />
              <p id="info-networks-hint" class="muted small-text">
                {I.allowedNetworksHint}
              </p>
              <ul
                id="info-networks-errors"
                class="alert"
                data-testid="network-errors"
                hidden={networkErrors.length === 0}
              >
                {networkErrors.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            </div>
            <div>
              <button type="submit" disabled={networkErrors.length > 0}>
                {busy ? I.saving : I.saveSettings}
              </button>
            </div>
          </fieldset>
          <p role="status" class={settingsNote?.ok === false ? 'alert' : 'muted'}>
            {settingsNote?.text}
          </p>
        </form>
      </section>

      <ExamPassword examId={props.examId} chief={chief} />

      <ProctoringInfo examId={props.examId} info={info} chief={chief} onInfo={props.onInfo} />

      <section aria-labelledby="passwords-heading">
        <h3 id="passwords-heading">{I.passwordsHeading}</h3>
        <p class="muted">{I.passwordsIntro}</p>
        <p>{I.passwordsGenerated(info.verificationPasswordsGenerated)}</p>
        <form onSubmit={generate} class="inline-form">
          <fieldset disabled={!chief || busy} class="plain inline-form">
            <WholeNumberField
              id="info-password-count"
              label={I.passwordCount}
              min={1}
              max={2000}
              value={count}
              onInput={setCount}
            />
            <button type="submit">{I.generate}</button>
          </fieldset>
        </form>
        {!chief && <p class="muted small-text">{t.proctor.chiefOnly}</p>}
        {passwordsNote !== undefined && (
          <p role="alert" class="alert">
            {passwordsNote}
          </p>
        )}
        {passwords !== undefined && (
          <ol class="passwords mono" aria-label={I.generatedList}>
            {passwords.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="files-heading">
        <h3 id="files-heading">{I.filesHeading}</h3>
        <ul class="file-links">
          <li>
            <a href={reportUrl(props.examId)} download>
              {I.report}
            </a>
          </li>
          <li>
            <a href={eventLogUrl(props.examId)} download>
              {I.eventLog}
            </a>
          </li>
          <li>
            <a href={sebConfigUrl(props.examId)} download>
              {I.sebConfig}
            </a>
          </li>
        </ul>
        {seb !== undefined && (
          <>
            <p>{seb.required ? I.sebRequired : I.sebNotRequired}</p>
            <dl class="facts">
              <Fact term={I.sebConfigKey}>
                <span class="mono break">{seb.configKey}</span>
              </Fact>
              {seb.quitPassword !== null && (
                <Fact term={I.sebQuitPassword}>
                  <span class="mono">{seb.quitPassword}</span>
                </Fact>
              )}
            </dl>
          </>
        )}
      </section>
    </div>
  );
}

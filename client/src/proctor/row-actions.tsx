/**
 * One examinee's actions, in a modal dialog opened from their row (a <dialog> made modal by
 * quick-modal.ts, so that it paints at once on a slow phone: focus moves in and stays in, Escape
 * closes, the page behind takes no clicks and becomes inert, focus returns to the row's button).
 * Each action posts to POST .../participants/:studentId/<action>; the appliance answers the
 * changed row, which replaces the row at once (the live stream sends it too), and a refusal is
 * shown in words.
 * Chief-only actions are disabled for invigilators, with the reason.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import {
  examineeEvents,
  HARDWARE_CHECKS,
  photoUrl,
  revealContact,
  rowAction,
  VERIFICATION_MODES,
  type ExamInfo,
  type ExamineeEvent,
  type HardwareCheck,
  type ParticipantRow,
} from './api';
import { StatusBadge, WholeNumberField } from './format';
import { IntegritySection, ProctoringSection } from './integrity-report';
import { afterPaint, useQuickModal } from './quick-modal';
import { TimeUpSection } from './time-up';

const A = t.proctor.actions;

type Outcome = { ok: boolean; text: string } | undefined;

function Section(props: { title: string; id: string; children: ComponentChildren }) {
  return (
    <section class="action-section" aria-labelledby={props.id}>
      <h4 id={props.id}>{props.title}</h4>
      {props.children}
    </section>
  );
}

function ChiefNote(props: { chief: boolean }) {
  return props.chief ? null : <p class="muted small-text">{t.proctor.chiefOnly}</p>;
}

/** Whose action dialog is open, and the section to show first (the monitor holds it). */
export interface Acting {
  studentId: string;
  section?: string;
}

export function RowActions(props: {
  examId: string;
  row: ParticipantRow;
  info: ExamInfo;
  chief: boolean;
  now: number;
  onRow: (row: ParticipantRow) => void;
  onClose: () => void;
  /** The id of the section to show first (a toast opens the dialog where its item is acted on). */
  section?: string | undefined;
}) {
  const { row, chief } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const backdrop = useRef<HTMLDivElement>(null);
  const firstSection = useRef(props.section);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const everyone = props.info.editable.extraMinutes;
  const [extension, setExtension] = useState(String(Math.max(0, row.extensionMinutes - everyone)));
  const [lateLogin, setLateLogin] = useState(
    String(row.personalLateLoginMinutes ?? props.info.editable.lateLoginMinutes),
  );
  const [accommodation, setAccommodation] = useState(String(row.accommodationPercent));
  const [mode, setMode] = useState<string>(row.verificationMode);
  const [hardware, setHardware] = useState<HardwareCheck[]>(row.disabledHardwareChecks);
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [contact, setContact] = useState<{ email: string | null; phone: string | null } | undefined>(undefined);
  const [events, setEvents] = useState<ExamineeEvent[] | undefined>(undefined);
  const [showPhotos, setShowPhotos] = useState(false);

  const mounted = useRef(true);
  // Where focus goes back to when the dialog goes, however it goes (Close, Escape, Back, and
  // whatever opened it: the row, a toast, the address): the examinee's Actions button, or, when
  // their row is not in the page (scrolled out of the window, filtered), what had the focus.
  const opener = useRef(document.activeElement);
  const whose = useRef(row.studentId);
  useEffect(
    () => () => {
      mounted.current = false;
      const studentId = whose.current;
      setTimeout(() => {
        const row = document.querySelector<HTMLElement>(`[data-actions-for="${CSS.escape(studentId)}"]`);
        const from = opener.current;
        const active = document.activeElement;
        const lost = active === null || active === document.body || !active.isConnected;
        if (row) row.focus();
        else if (lost && from instanceof HTMLElement && from !== document.body && from.isConnected) from.focus();
      }, 0);
    },
    [],
  );
  // Opened in the same task as the click that mounts it (useEffect would wait for the next frame).
  useQuickModal(dialog, backdrop);
  // The first screen of sections shows at once; the rest follow as soon as the dialog has painted
  // (a slow phone shows the dialog half as many elements sooner). Opened at a section (a toast,
  // the address), the dialog has them all from the start.
  const [complete, setComplete] = useState(props.section !== undefined);
  useEffect(() => (complete ? undefined : afterPaint(() => setComplete(true))), [complete]);
  useLayoutEffect(() => {
    const heading = firstSection.current === undefined ? null : document.getElementById(firstSection.current);
    if (heading) {
      heading.tabIndex = -1;
      heading.scrollIntoView({ block: 'start' });
      heading.focus();
    }
  }, []);

  const act = async (action: string, body: Record<string, unknown>) => {
    setBusy(true);
    setOutcome(undefined);
    const result = await rowAction(props.examId, row.studentId, action, body);
    setBusy(false);
    if (result.ok) {
      props.onRow(result.body.row);
      setOutcome({ ok: true, text: A.done });
    } else setOutcome({ ok: false, text: result.message });
    return result.ok;
  };
  const asking = row.bathroom === 'requested' || row.bathroom === 'later';
  const minutesOf = (text: string) => Number.parseInt(text, 10);

  const loadEvents = async () => {
    const result = await examineeEvents(props.examId, row.studentId);
    if (result.ok) setEvents(result.body.events);
    else setOutcome({ ok: false, text: result.message });
  };
  const photos = (events ?? []).filter((e) => e.kind === 'verification-photo-submitted');

  return (
    <>
      <div class="modal-backdrop" ref={backdrop} />
      <dialog
        ref={dialog}
        class="row-actions"
        aria-modal="true"
        aria-labelledby="row-actions-title"
        onClose={() => {
          // Chromium also fires `close` on a modal dialog taken out of the page (Back closed it),
          // a moment later: by then a Forward may have opened the next one, which must stay open.
          if (mounted.current) props.onClose();
        }}
        data-testid="row-actions"
      >
        <div class="dialog-head">
          <h3 id="row-actions-title">{A.dialogTitle(row.name, row.studentId)}</h3>
          <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
            {A.close}
          </button>
        </div>
        <p>
          {A.status}: <StatusBadge status={row.status} />
        </p>
        <p role="status" aria-live="polite" class={outcome?.ok === false ? 'alert' : 'notice-ok-inline'}>
          {busy ? A.working : outcome?.text}
        </p>

        <Section title={A.downloadsHeading} id="act-downloads">
          <div class="stepper">
            <button
              type="button"
              class="secondary icon"
              aria-label={A.lessDownloads}
              disabled={busy || row.maxDownloads <= 0}
              onClick={() => void act('max-downloads', { change: -1 })}
            >
              −
            </button>
            <span data-testid="max-downloads">{A.downloadsNow(row.maxDownloads, row.downloads)}</span>
            <button
              type="button"
              class="secondary icon"
              aria-label={A.moreDownloads}
              disabled={busy}
              onClick={() => void act('max-downloads', { change: 1 })}
            >
              +
            </button>
          </div>
        </Section>

        <Section title={A.extensionHeading} id="act-extension">
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act('time-extension', { minutes: minutesOf(extension) });
            }}
          >
            <WholeNumberField
              id="act-extension-minutes"
              label={A.extensionLabel}
              max={600}
              value={extension}
              onInput={setExtension}
              hint={A.extensionHint(everyone)}
            />
            <button type="submit" disabled={busy}>
              {A.applyExtension}
            </button>
          </form>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act('accommodation', { percent: minutesOf(accommodation) });
            }}
          >
            <fieldset disabled={!chief} class="plain">
              <WholeNumberField
                id="act-accommodation"
                label={A.accommodationLabel}
                max={400}
                value={accommodation}
                onInput={setAccommodation}
              />
              <button type="submit" class="secondary" disabled={busy || !chief}>
                {A.applyAccommodation}
              </button>
            </fieldset>
            <ChiefNote chief={chief} />
          </form>
        </Section>

        <Section title={A.lateLoginHeading} id="act-late">
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act('late-login', { minutes: minutesOf(lateLogin) });
            }}
          >
            <WholeNumberField
              id="act-late-minutes"
              label={A.lateLoginLabel}
              max={1440}
              value={lateLogin}
              onInput={setLateLogin}
            />
            <button type="submit" class="secondary" disabled={busy}>
              {A.applyLateLogin}
            </button>
          </form>
        </Section>

        <Section title={A.reloginHeading} id="act-relogin">
          <p>{row.status === 'waiting-relogin' ? A.reloginWaiting : A.reloginNone}</p>
          <div class="button-row">
            <button
              type="button"
              disabled={busy || row.status !== 'waiting-relogin'}
              onClick={() => void act('relogin', { decision: 'approve' })}
            >
              {A.approve}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy || row.status !== 'waiting-relogin'}
              onClick={() => void act('relogin', { decision: 'reject' })}
            >
              {A.reject}
            </button>
          </div>
        </Section>

        {complete && (
          <>
            <Section title={A.bathroomHeading} id="act-bathroom">
              <p>{A.bathroomNow(t.proctor.participants.bathroomStates[row.bathroom] ?? row.bathroom)}</p>
              <div class="button-row">
                <button
                  type="button"
                  disabled={busy || !asking}
                  onClick={() => void act('bathroom-break', { decision: 'approved' })}
                >
                  {A.bathroomApprove}
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={busy || !asking}
                  onClick={() => void act('bathroom-break', { decision: 'later' })}
                >
                  {A.bathroomLater}
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={busy || !asking}
                  onClick={() => void act('bathroom-break', { decision: 'rejected' })}
                >
                  {A.bathroomReject}
                </button>
              </div>
            </Section>

            <Section title={A.verificationHeading} id="act-verification">
              <p>
                {t.proctor.participants.verificationValue(
                  t.proctor.info.verificationModes[row.verificationMode],
                  t.proctor.participants.verificationStates[row.verification] ?? row.verification,
                )}
              </p>
              <div class="button-row">
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => void act('verification', { decision: 'verified' })}
                >
                  {A.verify}
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={busy}
                  onClick={() => void act('verification', { decision: 'rejected' })}
                >
                  {A.rejectVerification}
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={busy}
                  onClick={() => void act('verification', { decision: 'retake' })}
                >
                  {A.retake}
                </button>
              </div>
              <p class="muted">{A.photos(row.verificationPhotos)}</p>
              {row.verificationPhotos > 0 && !showPhotos && (
                <button
                  type="button"
                  class="secondary"
                  onClick={async () => {
                    await loadEvents();
                    setShowPhotos(true);
                  }}
                >
                  {A.showPhotos}
                </button>
              )}
              {showPhotos && (
                <div class="photos">
                  {photos.map((p, i) => (
                    <img
                      key={String(p.data.sha256)}
                      src={photoUrl(props.examId, row.studentId, String(p.data.sha256))}
                      alt={A.photoAlt(String(p.data.kind), i + 1)}
                    />
                  ))}
                </div>
              )}
              <form
                class="inline-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  void act('verification-mode', { mode });
                }}
              >
                <fieldset disabled={!chief} class="plain">
                  <div class="field">
                    <label for="act-mode">{A.verificationModeLabel}</label>
                    <select id="act-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
                      {VERIFICATION_MODES.map((m) => (
                        <option key={m} value={m}>
                          {t.proctor.info.verificationModes[m]}
                        </option>
                      ))}
                    </select>
                  </div>
                  <button type="submit" class="secondary" disabled={busy || !chief}>
                    {A.applyMode}
                  </button>
                </fieldset>
                <ChiefNote chief={chief} />
              </form>
            </Section>

            <Section title={A.hardwareHeading} id="act-hardware">
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void act('hardware-checks', { disabled: hardware });
                }}
              >
                <fieldset class="plain checks">
                  <legend class="visually-hidden">{A.hardwareHeading}</legend>
                  {HARDWARE_CHECKS.map((c) => (
                    <label class="check" key={c}>
                      <input
                        type="checkbox"
                        checked={hardware.includes(c)}
                        onChange={(e) =>
                          setHardware((cur) => (e.currentTarget.checked ? [...cur, c] : cur.filter((x) => x !== c)))
                        }
                      />
                      {t.proctor.hardware[c]}
                    </label>
                  ))}
                </fieldset>
                <button type="submit" class="secondary" disabled={busy}>
                  {A.applyHardware}
                </button>
              </form>
            </Section>

            <TimeUpSection examId={props.examId} row={row} chief={chief} onRow={props.onRow} />

            <IntegritySection
              examId={props.examId}
              row={row}
              busy={busy}
              act={act}
              events={events}
              onShowEvents={() => void loadEvents()}
            />
            <ProctoringSection row={row} chief={chief} busy={busy} act={act} />

            <Section title={A.contactHeading} id="act-contact">
              {contact === undefined ? (
                <>
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy || (!row.hasEmail && !row.hasPhone)}
                    onClick={async () => {
                      const result = await revealContact(props.examId, row.studentId);
                      if (result.ok) setContact(result.body);
                      else setOutcome({ ok: false, text: result.message });
                    }}
                  >
                    {A.revealContact}
                  </button>
                  <p class="muted small-text">{row.hasEmail || row.hasPhone ? A.revealHint : A.noContact}</p>
                </>
              ) : (
                <dl class="facts">
                  <div>
                    <dt>{A.email}</dt>
                    <dd>{contact.email ?? A.noContact}</dd>
                  </div>
                  <div>
                    <dt>{A.phone}</dt>
                    <dd>{contact.phone ?? A.noContact}</dd>
                  </div>
                </dl>
              )}
            </Section>

            <Section title={A.removeHeading} id="act-remove">
              {row.submissionId === null ? (
                <p class="muted">{A.removeNone}</p>
              ) : (
                <form
                  class="stack"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (reason.trim() !== '') setConfirming(true);
                  }}
                >
                  <p class="muted small-text">{A.removeHint}</p>
                  <fieldset disabled={!chief} class="plain">
                    <div class="field">
                      <label for="act-reason">{A.reasonLabel}</label>
                      <textarea
                        id="act-reason"
                        rows={2}
                        required
                        maxLength={500}
                        value={reason}
                        onInput={(e) => setReason(e.currentTarget.value)}
                      />
                    </div>
                    {!confirming && (
                      <button type="submit" class="danger" disabled={busy || !chief}>
                        {A.remove}
                      </button>
                    )}
                  </fieldset>
                  <ChiefNote chief={chief} />
                  {confirming && (
                    <div class="confirm" role="alertdialog" aria-labelledby="confirm-remove-text">
                      <p id="confirm-remove-text">{A.confirmRemove(row.name)}</p>
                      <div class="button-row">
                        <button
                          type="button"
                          class="danger"
                          disabled={busy}
                          onClick={async () => {
                            if (await act('remove-submission', { reason: reason.trim() })) setReason('');
                            setConfirming(false);
                          }}
                        >
                          {A.confirmYes}
                        </button>
                        <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                          {A.confirmNo}
                        </button>
                      </div>
                    </div>
                  )}
                </form>
              )}
            </Section>
          </>
        )}
      </dialog>
    </>
  );
}

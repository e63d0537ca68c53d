/**
 * The participants row's own controls (participants.tsx): max downloads edited in its column, with
 * the warning before going below the downloads already made, and personal information behind an eye.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { type ParticipantRow } from './api';

const P = t.proctor.participants;

/** What a change of max downloads asks the appliance for: one step, or a typed number. */
export type MaxDownloadsChange = { change: 1 | -1 } | { set: number };

/** The number a change leads to. */
export const nextMax = (row: ParticipantRow, c: MaxDownloadsChange) =>
  'set' in c ? c.set : row.maxDownloads + c.change;

/**
 * Max downloads in its cell: − / + and a typed number (Enter or leaving the field saves) for a
 * proctor who may change it, the number alone for one who may not. The typed text is the field's
 * own while it has focus, and after that until the row's number changes (the save's answer); a
 * streamed row replaces it only when it has not. The table reuses a row's elements for another
 * examinee (participants-table.tsx), so what was typed is kept with the examinee it was typed for.
 */
export function MaxDownloadsCell(props: {
  row: ParticipantRow;
  editable: boolean;
  busy: boolean;
  /** `undo` puts the field back to the row's number (a lowering not confirmed). */
  onChange: (row: ParticipantRow, change: MaxDownloadsChange, undo?: () => void) => void;
}) {
  const { row, editable, busy } = props;
  // What was typed, for whom, over which number of theirs.
  const [edit, setEdit] = useState<{ id: string; base: number; text: string } | undefined>(undefined);
  const focused = useRef(false);
  // The number last asked for (for whom, over which number), so Enter and then leaving the field ask once.
  const asked = useRef<{ id: string; base: number; n: number } | undefined>(undefined);
  if (!editable) return <span data-testid="max-downloads-value">{row.maxDownloads}</span>;
  const mine = edit?.id === row.studentId ? edit : undefined;
  const text =
    mine !== undefined && (focused.current || mine.base === row.maxDownloads) ? mine.text : String(row.maxDownloads);
  const typed = /^\d{1,3}$/.test(text.trim()) ? Number.parseInt(text.trim(), 10) : Number.NaN;
  const valid = Number.isInteger(typed) && typed >= 0 && typed <= 100;
  const commit = () => {
    if (!valid) {
      setEdit(undefined);
      return;
    }
    const a = asked.current;
    if (typed === row.maxDownloads || (a?.id === row.studentId && a.base === row.maxDownloads && typed === a.n)) return;
    asked.current = { id: row.studentId, base: row.maxDownloads, n: typed };
    // The typed number stays shown over this number of theirs until the answer changes it.
    setEdit({ id: row.studentId, base: row.maxDownloads, text });
    props.onChange(row, { set: typed }, () => {
      asked.current = undefined;
      setEdit(undefined);
    });
  };
  const id = `max-downloads-${row.studentId}`;
  return (
    <form
      class="max-downloads-stepper"
      onSubmit={(e) => {
        e.preventDefault();
        commit();
      }}
    >
      <button
        type="button"
        class="secondary icon"
        aria-label={P.lessDownloadsFor(row.name)}
        disabled={busy || row.maxDownloads <= 0}
        onClick={() => props.onChange(row, { change: -1 })}
      >
        −
      </button>
      <input
        id={id}
        aria-label={P.maxDownloadsFor(row.name)}
        type="number"
        inputMode="numeric"
        min={0}
        max={100}
        step={1}
        required
        value={text}
        aria-invalid={!valid}
        disabled={busy}
        onFocus={() => (focused.current = true)}
        onBlur={() => {
          focused.current = false;
          commit();
        }}
        onInput={(e) => setEdit({ id: row.studentId, base: row.maxDownloads, text: e.currentTarget.value })}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setEdit(undefined);
        }}
      />
      <button
        type="button"
        class="secondary icon"
        aria-label={P.moreDownloadsFor(row.name)}
        disabled={busy || row.maxDownloads >= 100}
        onClick={() => props.onChange(row, { change: 1 })}
      >
        +
      </button>
    </form>
  );
}

/** Before max downloads goes below the downloads already made: what it means, and a confirm. */
export function LowerMaxDialog(props: {
  row: ParticipantRow;
  next: number;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="confirm-lower"
      aria-labelledby="lower-max-title"
      aria-describedby="lower-max-text"
      data-testid="lower-max-dialog"
      onClose={props.onCancel}
    >
      <h3 id="lower-max-title">{P.lowerTitle(props.row.name)}</h3>
      <p id="lower-max-text">{P.lowerWarning(props.row.name, props.row.downloads, props.next)}</p>
      <div class="button-row">
        <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
          {P.lowerCancel}
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {P.lowerConfirm(props.next)}
        </button>
      </div>
    </dialog>
  );
}

/** A row's email and phone as revealed (each reveal recorded as a contact-revealed event). */
export type Revealed = ReadonlyMap<string, { email: string | null; phone: string | null }>;

/** The eye: shows the row's email and phone inline, and hides them again. */
export function PersonalInfo(props: {
  row: ParticipantRow;
  shown: { email: string | null; phone: string | null } | undefined;
  onToggle: (row: ParticipantRow) => void;
}) {
  const { row, shown } = props;
  if (!row.hasEmail && !row.hasPhone) return null;
  return (
    <span class="personal-info">
      <button
        type="button"
        class="secondary icon eye"
        aria-pressed={shown !== undefined}
        aria-label={P.showPersonal(row.name)}
        title={P.personalRecorded}
        onClick={() => props.onToggle(row)}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
          <path
            d="M1.5 12S5.5 5 12 5s10.5 7 10.5 7-4 7-10.5 7S1.5 12 1.5 12Z"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
          />
          <circle cx="12" cy="12" r="3" fill="currentColor" />
          {shown !== undefined && <path d="M3 21 21 3" stroke="currentColor" stroke-width="2" />}
        </svg>
      </button>
      {shown !== undefined && (
        <span class="personal-values" data-testid="personal-info">
          {[shown.email, shown.phone].filter((v) => v !== null).join(' · ') || P.personalNone}
        </span>
      )}
    </span>
  );
}

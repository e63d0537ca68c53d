/** Small pieces the monitor's tabs share: times, the status badge (colour plus icon plus words). */
import { t } from '../i18n';
import { clockText } from '../i18n/en';

const DATE_TIME = new Intl.DateTimeFormat(t.lang, { dateStyle: 'medium', timeStyle: 'short' });
const TIME = new Intl.DateTimeFormat(t.lang, { timeStyle: 'short' });

/**
 * `format`, remembering its last answers: a table of 1,000 rows formats the same few times (the
 * late-login deadline, the minutes examinees downloaded in) again whenever a row is drawn.
 */
function remembered<K>(format: (key: K) => string): (key: K) => string {
  const known = new Map<K, string>();
  return (key) => {
    let text = known.get(key);
    if (text === undefined) {
      if (known.size >= 2_000) known.clear();
      text = format(key);
      known.set(key, text);
    }
    return text;
  };
}

export const dateTime = remembered((iso: string | number): string =>
  DATE_TIME.format(typeof iso === 'number' ? iso : Date.parse(iso)),
);
export const timeOfDay = remembered((iso: string): string => TIME.format(Date.parse(iso)));
export const duration = (ms: number): string => clockText(ms);

/** A shape per status, so the status never rests on colour alone. */
export const STATUS_ICONS: Record<string, string> = {
  'not-started': '○',
  'logged-in': '◐',
  active: '●',
  locked: '⊘',
  disconnected: '⚠',
  submitted: '✓',
  'waiting-relogin': '↻',
  'verification-rejected': '✕',
};

export function StatusBadge(props: { status: string }) {
  return (
    <span class={`status-badge status-${props.status}`} data-status={props.status}>
      <span aria-hidden="true" class="status-icon">
        {STATUS_ICONS[props.status] ?? '•'}
      </span>
      {t.proctor.statuses[props.status] ?? props.status}
    </span>
  );
}

/**
 * A labelled field for a whole number (minutes, a percentage, a count): the numeric keyboard on
 * phones, the browser's own range check, and an optional hint under it.
 */
export function WholeNumberField(props: {
  id: string;
  label: string;
  min?: number;
  max: number;
  value: string;
  onInput: (value: string) => void;
  hint?: string;
}) {
  const hintId = `${props.id}-hint`;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        inputMode="numeric"
        min={props.min ?? 0}
        max={props.max}
        required
        value={props.value}
        aria-describedby={props.hint === undefined ? undefined : hintId}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.hint !== undefined && (
        <p id={hintId} class="muted small-text">
          {props.hint}
        </p>
      )}
    </div>
  );
}

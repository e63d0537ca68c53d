/**
 * The Exam info tab's proctoring section: the proctoring type for examinees without their own
 * and the seconds between snapshots (chief: PATCH .../settings), what the examinees are told, and
 * what the snapshots cost in disk for this roster and exam length against what the data disk has
 * free (red when it cannot hold them; the doctor warns too).
 */
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { bytesText } from '../i18n/en/proctoring';
import {
  PROCTORING_TYPES,
  saveExamSettings,
  SNAPSHOT_INTERVAL_SECONDS,
  type ExamInfo,
  type ProctoringType,
} from './api';
import { WholeNumberField } from './format';

const R = t.proctor.proctoring;

export function ProctoringInfo(props: {
  examId: string;
  info: ExamInfo;
  chief: boolean;
  onInfo: (info: ExamInfo) => void;
}) {
  const { info, chief } = props;
  const [type, setType] = useState<ProctoringType>(info.editable.proctoringType);
  const [interval, setIntervalText] = useState(String(info.editable.snapshotIntervalSeconds));
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const cost = info.proctoring;
  const short = cost.diskFreeBytes !== null && cost.estimateBytes - cost.takenBytes > cost.diskFreeBytes;

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const result = await saveExamSettings(props.examId, {
      proctoringType: type,
      snapshotIntervalSeconds: Number.parseInt(interval, 10),
    });
    setBusy(false);
    if (result.ok) {
      props.onInfo(result.body);
      setNote({ ok: true, text: t.proctor.info.saved });
    } else setNote({ ok: false, text: result.message });
  };

  return (
    <section aria-labelledby="proctoring-heading" data-testid="proctoring-info">
      <h3 id="proctoring-heading">{R.heading}</h3>
      <p data-testid="snapshot-cost">
        {R.cost(bytesText(cost.estimateBytes), cost.taken, bytesText(cost.takenBytes))}{' '}
        {cost.diskFreeBytes !== null && !short && R.diskFree(bytesText(cost.diskFreeBytes))}
      </p>
      {short && cost.diskFreeBytes !== null && (
        <p class="alert" role="alert" data-testid="snapshot-disk-short">
          {R.diskShort(bytesText(cost.diskFreeBytes))}
        </p>
      )}
      <p class="muted">{cost.cameraRequired ? R.cameraRequired : R.cameraOptional}</p>
      {cost.consentText !== null && (
        <figure class="consent">
          <figcaption class="muted small-text">{R.consent}</figcaption>
          <blockquote>{cost.consentText}</blockquote>
        </figure>
      )}
      {!chief && <p class="notice">{t.proctor.chiefOnly}</p>}
      <form onSubmit={save}>
        <fieldset disabled={!chief || busy} class="plain stack">
          <div class="field">
            <label for="info-proctoring">{R.examTypeLabel}</label>
            <select
              id="info-proctoring"
              value={type}
              onChange={(e) => setType(e.currentTarget.value as ProctoringType)}
            >
              {PROCTORING_TYPES.map((p) => (
                <option key={p} value={p}>
                  {R.types[p]}
                </option>
              ))}
            </select>
          </div>
          <WholeNumberField
            id="info-snapshot-interval"
            label={R.intervalLabel}
            min={SNAPSHOT_INTERVAL_SECONDS.min}
            max={SNAPSHOT_INTERVAL_SECONDS.max}
            value={interval}
            onInput={setIntervalText}
            hint={R.intervalHint(SNAPSHOT_INTERVAL_SECONDS.min, SNAPSHOT_INTERVAL_SECONDS.max)}
          />
          <div>
            <button type="submit">{busy ? t.proctor.info.saving : R.apply}</button>
          </div>
        </fieldset>
        <p role="status" class={note?.ok === false ? 'alert' : 'muted'}>
          {note?.text}
        </p>
      </form>
    </section>
  );
}

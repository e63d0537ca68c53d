/**
 * The integrity part of an examinee's action dialog (row-actions.tsx): the review status with a
 * note, and the integrity report, the examinee's events in time order with each event's detail
 * ("312 characters pasted") and the proctoring snapshots as a strip of small pictures between
 * them; and the proctoring section: the examinee's type (chief), what their device takes, and what
 * it said it cannot.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import {
  INTEGRITY_REVIEW_STATUSES,
  PROCTORING_TYPES,
  snapshotUrl,
  type ExamineeEvent,
  type ParticipantRow,
  type ProctoringType,
  type SnapshotProblem,
  type SnapshotSource,
} from './api';
import { dateTime, timeOfDay } from './format';

const A = t.proctor.actions;
const R = t.proctor.proctoring;

/** Posts one of the row's actions; true when it was done. */
export type Act = (action: string, body: Record<string, unknown>) => Promise<boolean>;

function Section(props: { title: string; id: string; children: ComponentChildren }) {
  return (
    <section class="action-section" aria-labelledby={props.id}>
      <h4 id={props.id}>{props.title}</h4>
      {props.children}
    </section>
  );
}

export function IntegritySection(props: {
  examId: string;
  row: ParticipantRow;
  busy: boolean;
  act: Act;
  events: ExamineeEvent[] | undefined;
  onShowEvents: () => void;
}) {
  const { row, busy } = props;
  const [review, setReview] = useState<string>(row.integrityReview);
  const [note, setNote] = useState('');
  return (
    <Section title={A.integrityHeading} id="act-integrity">
      <p>{A.integrityNow(row.integrityScore, row.integrityEvents)}</p>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void props.act('integrity-review', note.trim() === '' ? { status: review } : { status: review, note });
        }}
      >
        <div class="field">
          <label for="act-review">{A.reviewLabel}</label>
          <select id="act-review" value={review} onChange={(e) => setReview(e.currentTarget.value)}>
            {INTEGRITY_REVIEW_STATUSES.map((s) => (
              <option key={s} value={s}>
                {A.reviewStates[s]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="act-note">{A.noteLabel}</label>
          <textarea
            id="act-note"
            rows={2}
            maxLength={2000}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
        </div>
        <div class="button-row">
          <button type="submit" class="secondary" disabled={busy}>
            {A.saveReview}
          </button>
          <button type="button" class="secondary" onClick={props.onShowEvents}>
            {A.showEvents}
          </button>
        </div>
      </form>
      {props.events !== undefined && <EventTimeline examId={props.examId} row={row} events={props.events} />}
    </Section>
  );
}

/** Events in time order; consecutive snapshots as one strip of pictures. */
function EventTimeline(props: { examId: string; row: ParticipantRow; events: ExamineeEvent[] }) {
  const groups: ExamineeEvent[][] = [];
  for (const e of props.events) {
    const last = groups[groups.length - 1];
    if (e.kind === 'snapshot-taken' && last?.[0]?.kind === 'snapshot-taken') last.push(e);
    else groups.push([e]);
  }
  return (
    <div class="events">
      <h5>{A.eventsHeading}</h5>
      {props.events.length === 0 ? (
        <p>{A.noEvents}</p>
      ) : (
        <ol class="event-list" data-testid="integrity-report">
          {groups.map((group) =>
            group[0]!.kind === 'snapshot-taken' ? (
              <li key={group[0]!.seq} class="snapshot-strip" data-testid="snapshot-strip">
                <span class="mono snapshot-times">
                  {R.stripTimes(group.length, timeOfDay(group[0]!.at), timeOfDay(group[group.length - 1]!.at))}
                </span>
                {group.map((e) => {
                  const source = String(e.data.source) as SnapshotSource;
                  const alt = R.snapshotAlt(source, timeOfDay(e.at));
                  return (
                    <a
                      key={e.seq}
                      href={snapshotUrl(props.examId, props.row.studentId, String(e.data.sha256))}
                      target="_blank"
                      rel="noopener"
                      title={alt}
                    >
                      <img
                        src={snapshotUrl(props.examId, props.row.studentId, String(e.data.sha256))}
                        alt={alt}
                        loading="lazy"
                        width={source === 'camera' ? 64 : 96}
                        height={source === 'camera' ? 48 : 54}
                      />
                    </a>
                  );
                })}
              </li>
            ) : (
              <li key={group[0]!.seq}>
                <EventLine event={group[0]!} />
              </li>
            ),
          )}
        </ol>
      )}
    </div>
  );
}

function EventLine(props: { event: ExamineeEvent }) {
  const e = props.event;
  return (
    <>
      <span class="mono">{dateTime(e.at)}</span> {A.eventKinds[e.kind] ?? e.kind}
      {e.kind === 'integrity-event' ? ` (${A.integrityTypes[String(e.data.type)] ?? String(e.data.type)})` : ''}
      {e.kind === 'integrity-event' && typeof e.data.detail === 'string' && e.data.detail !== '' && (
        <span class="integrity-detail"> — {e.data.detail}</span>
      )}
      {e.kind === 'snapshot-refused' &&
        ` (${R.problem(String(e.data.source) as SnapshotSource, String(e.data.problem) as SnapshotProblem)})`}
      {e.kind === 'personal-proctoring-set' && ` (${R.types[String(e.data.type) as ProctoringType] ?? ''})`}
      {e.actor.username !== undefined ? ` — ${A.byProctor(e.actor.username)}` : ''}
    </>
  );
}

/** The examinee's proctoring: their type (chief), what was taken, what the device cannot. */
export function ProctoringSection(props: { row: ParticipantRow; chief: boolean; busy: boolean; act: Act }) {
  const { row, chief, busy } = props;
  const [type, setType] = useState<ProctoringType>(row.proctoringType);
  const problems = Object.entries(row.snapshotProblems) as [SnapshotSource, SnapshotProblem][];
  return (
    <Section title={R.heading} id="act-proctoring">
      <p data-testid="proctoring-now">
        {R.now(R.types[row.proctoringType], row.snapshots)}
        {row.lastSnapshotAt !== null && ` ${t.snapshots.lastAt(timeOfDay(row.lastSnapshotAt))}`}
      </p>
      {problems.length > 0 && row.proctoringType !== 'none' && (
        <p class="alert" data-testid="proctoring-problems">
          {problems.map(([s, p]) => R.problem(s, p)).join(', ')}
        </p>
      )}
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void props.act('proctoring', { type });
        }}
      >
        <fieldset disabled={!chief} class="plain">
          <div class="field">
            <label for="act-proctoring-type">{R.typeLabel}</label>
            <select
              id="act-proctoring-type"
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
          <button type="submit" class="secondary" disabled={busy || !chief}>
            {R.apply}
          </button>
        </fieldset>
        {!chief && <p class="muted small-text">{t.proctor.chiefOnly}</p>}
      </form>
    </Section>
  );
}

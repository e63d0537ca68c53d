/**
 * Progress at a glance, for proctors who would rather look than read: a status colour bar (SVG,
 * one segment per status, each with its icon in the chips below it), a histogram of how much
 * examinees have answered (CSS bars with their counts written under them), and the time left,
 * soonest and latest, with how much of the exam time is used. Each picture has a text
 * alternative; the numbers are also written out.
 */
import { EXAMINEE_STATUSES } from '../../../domain/examinee-state.js';
import { statusCounts } from '../../../domain/monitor.js';
import { t } from '../i18n';
import type { ExamInfo, ParticipantRow } from './api';
import { duration } from './format';
import { answeredBuckets, rowTimeLeft } from './rules';

const T = t.proctor.picture;

export function ProgressPicture(props: { rows: ParticipantRow[]; info: ExamInfo; now: number }) {
  const { rows, info, now } = props;
  const counts = statusCounts(rows);
  const total = Math.max(1, rows.length);
  const parts = EXAMINEE_STATUSES.filter((s) => counts[s] > 0).map(
    (s) => `${counts[s]} ${(t.proctor.statuses[s] ?? s).toLowerCase()}`,
  );
  let x = 0;
  const segments = EXAMINEE_STATUSES.filter((s) => counts[s] > 0).map((s) => {
    const width = (counts[s] / total) * 100;
    const seg = { s, x, width };
    x += width;
    return seg;
  });

  const buckets = answeredBuckets(rows);
  const tallest = Math.max(1, ...buckets);
  const bucketText = buckets.map((n, i) => T.bucket(T.buckets[i] ?? '', n)).join('; ');

  const start = Date.parse(info.scheduledStart);
  const end = start + (info.durationMinutes + info.editable.extraMinutes) * 60_000;
  const lefts = rows.map((r) => rowTimeLeft(r, info, now)).filter((l): l is number => l !== null && l > 0);
  const soonest = lefts.length === 0 ? 0 : Math.min(...lefts);
  const latest = lefts.length === 0 ? 0 : Math.max(...lefts);
  const used = Math.min(1, Math.max(0, (now - start) / Math.max(1, end - start)));

  return (
    <section class="progress-picture" aria-labelledby="picture-heading">
      <h3 id="picture-heading">{T.heading}</h3>
      <div class="picture-grid">
        <figure class="picture-status">
          <figcaption>{T.statusBar}</figcaption>
          <svg
            class="status-bar"
            viewBox="0 0 100 10"
            preserveAspectRatio="none"
            role="img"
            aria-label={T.statusBarAlt(parts.join(', '))}
            data-testid="status-bar"
          >
            {segments.map((seg) => (
              <rect key={seg.s} class={`fill-${seg.s}`} x={seg.x} y={0} width={seg.width} height={10} />
            ))}
          </svg>
          <p class="muted small-text">{parts.join(' · ')}</p>
        </figure>

        <figure class="picture-histogram">
          <figcaption id="histogram-caption">{T.histogram}</figcaption>
          <ol class="histogram" aria-labelledby="histogram-caption" data-testid="answered-histogram">
            {buckets.map((n, i) => (
              <li key={i} data-bucket={i} data-count={n} aria-label={T.bucket(T.buckets[i] ?? '', n)}>
                <span class="bar-slot" aria-hidden="true">
                  <span class="bar" style={{ height: `${(n / tallest) * 100}%` }} />
                </span>
                <span class="bar-count" aria-hidden="true">
                  {n}
                </span>
                <span class="bar-label" aria-hidden="true">
                  {T.buckets[i]}
                </span>
              </li>
            ))}
          </ol>
          <p class="visually-hidden">{bucketText}</p>
        </figure>

        <figure class="picture-time">
          <figcaption>{T.timeHeading}</figcaption>
          <p data-testid="time-summary">
            {now < start
              ? T.notStarted(duration(start - now))
              : lefts.length === 0
                ? T.allDone
                : T.timeLeft(duration(soonest), duration(latest))}
          </p>
          <label class="small-text" for="exam-time-used">
            {T.timeUsed}
          </label>
          <progress id="exam-time-used" max={100} value={Math.round(used * 100)}>
            {Math.round(used * 100)} %
          </progress>
        </figure>
      </div>
    </section>
  );
}

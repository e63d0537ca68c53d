/**
 * ExamSoft's tracking totals (examinees posted, downloads, uploads, upload deadline), shown on
 * the Exam info tab and above the participants list. Counted from the live rows
 * (domain/monitor.ts trackingTotals, the appliance's own rule), so they change as a row does.
 */
import { useMemo } from 'preact/hooks';
import { trackingTotals } from '../../../domain/monitor.js';
import { t } from '../i18n';
import type { ExamInfo, ParticipantRow } from './api';
import { dateTime } from './format';

const I = t.proctor.info;

export function TrackingTotals(props: { rows: readonly ParticipantRow[]; info: ExamInfo; headingId: string }) {
  const { rows, info, headingId } = props;
  const totals = useMemo(() => trackingTotals(rows, info.uploadDeadline ?? undefined), [rows, info.uploadDeadline]);
  return (
    <section aria-labelledby={headingId} class="tracking-totals" data-testid="tracking-totals">
      <h3 id={headingId}>{I.totalsHeading}</h3>
      <dl class="totals">
        <div data-total="posted">
          <dt>{I.posted}</dt>
          <dd>{totals.posted}</dd>
        </div>
        <div data-total="downloads">
          <dt>{I.downloads}</dt>
          <dd>{totals.downloads}</dd>
        </div>
        <div data-total="uploads">
          <dt>{I.uploads}</dt>
          <dd>{totals.uploads}</dd>
        </div>
        <div data-total="upload-deadline">
          <dt>{I.uploadDeadline}</dt>
          <dd class="totals-time">{totals.uploadDeadline === null ? I.none : dateTime(totals.uploadDeadline)}</dd>
        </div>
      </dl>
    </section>
  );
}

/** The halls with their boxes' heartbeats, and each exam's ExamSoft tracking totals per hall. */
import type { BoxStatus, ExamSummary, ExamTotals, HallOverview, OverviewResponse } from '../../shared/api.js';
import type { Selection } from './selection.js';
import { bytes, dateTime } from './format.js';

const ACCESS_WORDS: Record<HallOverview['access'], string> = {
  ok: '',
  'no-access': 'Your user may not read this hall.',
  missing: 'There is no database for this hall.',
};

const DESIGN_WORDS: Record<HallOverview['design'], string> = {
  ok: '',
  installed: 'Portal views installed just now.',
  updated: 'Portal views updated just now.',
  missing: 'The portal views (_design/portal) are missing: an admin opening the portal installs them.',
  outdated: 'The portal views are outdated: an admin opening the portal updates them.',
};

function Box({ box }: { box: BoxStatus }) {
  const hb = box.heartbeat;
  return (
    <li class={`box box-${box.colour}`} data-box={hb.applianceId} data-colour={box.colour}>
      <p class="box-head">
        <span class="dot" aria-hidden="true" />
        <strong>{hb.applianceId}</strong>
        <span class="box-label">{box.label}</span>
      </p>
      <dl class="box-facts">
        <div>
          <dt>Last contact</dt>
          <dd>{dateTime(hb.lastContactAt)}</dd>
        </div>
        <div>
          <dt>Last sync</dt>
          <dd>{dateTime(hb.lastSuccessAt)}</dd>
        </div>
        <div>
          <dt>Pending</dt>
          <dd>{hb.pending ? `${hb.pending.docs} (${bytes(hb.pending.bytes)})` : '—'}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{hb.version}</dd>
        </div>
        <div>
          <dt>Clock</dt>
          <dd>{hb.clockTrusted ? 'Trusted' : 'Not trusted'}</dd>
        </div>
      </dl>
    </li>
  );
}

export function HallsPanel({ overview }: { overview: OverviewResponse }) {
  return (
    <section aria-labelledby="halls-heading">
      <h2 id="halls-heading">Halls and boxes</h2>
      <div class="halls">
        {overview.halls.map((hall) => (
          <article class="hall" key={hall.hallId} data-hall={hall.hallId} aria-labelledby={`hall-${hall.hallId}`}>
            <h3 id={`hall-${hall.hallId}`}>Hall {hall.hallId}</h3>
            {ACCESS_WORDS[hall.access] && <p class="note">{ACCESS_WORDS[hall.access]}</p>}
            {hall.access === 'ok' && DESIGN_WORDS[hall.design] && <p class="note">{DESIGN_WORDS[hall.design]}</p>}
            {hall.access === 'ok' &&
              (hall.boxes.length === 0 ? (
                <p class="note">No box has reported yet.</p>
              ) : (
                <ul class="boxes" aria-label={`Boxes in hall ${hall.hallId}`}>
                  {hall.boxes.map((b) => (
                    <Box box={b} key={b.heartbeat.applianceId} />
                  ))}
                </ul>
              ))}
          </article>
        ))}
      </div>
    </section>
  );
}

interface ExamAcrossHalls {
  exam: ExamSummary;
  halls: { hallId: string; exam: ExamSummary }[];
}

function byExam(overview: OverviewResponse): ExamAcrossHalls[] {
  const out = new Map<string, ExamAcrossHalls>();
  for (const hall of overview.halls) {
    for (const exam of hall.exams) {
      let entry = out.get(exam.examId);
      if (!entry) out.set(exam.examId, (entry = { exam, halls: [] }));
      entry.halls.push({ hallId: hall.hallId, exam });
    }
  }
  return [...out.values()];
}

function sum(list: ExamTotals[]): ExamTotals {
  const t: ExamTotals = {
    studentsPosted: 0,
    downloaded: 0,
    downloads: 0,
    uploaded: 0,
    uploads: 0,
    late: 0,
    changedAfterTimeUp: 0,
  };
  for (const x of list) for (const k of Object.keys(t) as (keyof ExamTotals)[]) t[k] += x[k];
  return t;
}

function TotalsCells({ totals, deadline }: { totals: ExamTotals; deadline: string | null }) {
  return (
    <>
      <td class="num" data-col="posted">
        {totals.studentsPosted}
      </td>
      <td class="num" data-col="downloads">
        {totals.downloaded}
        {totals.downloads !== totals.downloaded && <span class="sub"> ({totals.downloads} in all)</span>}
      </td>
      <td class="num" data-col="uploads">
        {totals.uploaded}
        {(totals.late > 0 || totals.changedAfterTimeUp > 0) && (
          <span class="sub">
            {totals.late > 0 && ` · ${totals.late} late`}
            {totals.changedAfterTimeUp > 0 && ` · ${totals.changedAfterTimeUp} changed after time-up`}
          </span>
        )}
      </td>
      <td data-col="deadline">{deadline === null ? 'None' : dateTime(deadline)}</td>
    </>
  );
}

export function ExamsPanel({
  overview,
  selected,
  onSelect,
}: {
  overview: OverviewResponse;
  selected: Selection | undefined;
  onSelect: (s: Selection) => void;
}) {
  const exams = byExam(overview);
  return (
    <section aria-labelledby="exams-heading">
      <h2 id="exams-heading">Exams</h2>
      {exams.length === 0 && <p class="note">No exam is published to these halls yet.</p>}
      {exams.map(({ exam, halls }) => (
        <article class="exam" key={exam.examId} data-exam={exam.examId} aria-labelledby={`exam-${exam.examId}`}>
          <h3 id={`exam-${exam.examId}`}>
            {exam.title} <span class="exam-id">{exam.examId}</span>
          </h3>
          <p class="exam-when">
            Scheduled {dateTime(exam.scheduledStart)}, {exam.durationMinutes} min · download window{' '}
            {dateTime(exam.downloadWindow.opens)} to {dateTime(exam.downloadWindow.closes)}
          </p>
          <div class="table-wrap">
            <table class="totals">
              <caption class="visually-hidden">Tracking totals of {exam.title} per hall</caption>
              <thead>
                <tr>
                  <th scope="col">Hall</th>
                  <th scope="col">Students posted</th>
                  <th scope="col">Downloads</th>
                  <th scope="col">Uploads</th>
                  <th scope="col">Upload deadline</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {halls.map(({ hallId, exam: e }) => {
                  const isSelected = selected?.hallId === hallId && selected.examId === e.examId;
                  return (
                    <tr key={hallId} data-hall={hallId}>
                      <th scope="row">{hallId}</th>
                      <TotalsCells totals={e.totals} deadline={e.uploadDeadline} />
                      <td class="actions">
                        <button
                          type="button"
                          class="secondary"
                          aria-pressed={isSelected}
                          onClick={() => onSelect({ hallId, examId: e.examId })}
                        >
                          Examinees
                          <span class="visually-hidden">
                            {' '}
                            of {e.examId} in {hallId}
                          </span>
                        </button>
                        <a
                          class="button secondary"
                          href={`/api/halls/${encodeURIComponent(hallId)}/collect?exam=${encodeURIComponent(e.examId)}`}
                          download
                        >
                          Collect
                          <span class="visually-hidden">
                            {' '}
                            {e.examId} from {hallId}
                          </span>
                        </a>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
              {halls.length > 1 && (
                <tfoot>
                  <tr data-hall="all">
                    <th scope="row">All halls</th>
                    <TotalsCells totals={sum(halls.map((h) => h.exam.totals))} deadline={exam.uploadDeadline} />
                    <td />
                  </tr>
                </tfoot>
              )}
            </table>
          </div>
        </article>
      ))}
    </section>
  );
}

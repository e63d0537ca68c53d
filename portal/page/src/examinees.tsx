/**
 * One exam's examinees in one hall (the ExamSoft Proctoring page's table): max downloads,
 * downloads with the first one's time, upload time, late, changed after time-up; a search by
 * name or id; and, for admins, max downloads changed centrally (one examinee with − and +, or
 * everyone at once).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ExamineeRow, ExamineesResponse, MaxDownloadsResponse } from '../../shared/api.js';
import { api, ApiError } from './api.js';
import type { Selection } from './selection.js';
import { dateTime } from './format.js';

function useExaminees(selection: Selection, version: number, onSignedOut: () => void) {
  const [data, setData] = useState<ExamineesResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const { hallId, examId } = selection;
  const load = useCallback(async () => {
    try {
      setData(
        await api<ExamineesResponse>(
          `/api/halls/${encodeURIComponent(hallId)}/exams/${encodeURIComponent(examId)}/examinees`,
        ),
      );
      setError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) onSignedOut();
      else setError(err instanceof Error ? err.message : String(err));
    }
  }, [hallId, examId, onSignedOut]);
  useEffect(() => {
    void load();
  }, [load, version]);
  return { data, error, load };
}

export function ExamineesPanel({
  selection,
  admin,
  version,
  onClose,
  onSignedOut,
}: {
  selection: Selection;
  admin: boolean;
  version: number;
  onClose: () => void;
  onSignedOut: () => void;
}) {
  const { data, error, load } = useExaminees(selection, version, onSignedOut);
  const [search, setSearch] = useState('');
  const [everyone, setEveryone] = useState('');
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>();

  const setMax = async (maxDownloads: number, row?: ExamineeRow) => {
    setMessage(undefined);
    try {
      const r = await api<MaxDownloadsResponse>(
        `/api/halls/${encodeURIComponent(selection.hallId)}/exams/${encodeURIComponent(selection.examId)}/max-downloads`,
        { method: 'POST', body: row ? { maxDownloads, studentIds: [row.studentId] } : { maxDownloads } },
      );
      setMessage({
        text: row
          ? `Max downloads of ${row.name || row.studentId} set to ${maxDownloads}.`
          : `Max downloads set to ${maxDownloads} for ${r.updated + r.unchanged} examinees (${r.updated} changed).`,
        error: false,
      });
      await load();
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), error: true });
    }
  };

  const q = search.trim().toLowerCase();
  const rows = (data?.rows ?? []).filter(
    (r) =>
      q === '' ||
      r.name.toLowerCase().includes(q) ||
      r.studentId.toLowerCase().includes(q) ||
      (r.examineeId ?? '').toLowerCase().includes(q),
  );
  const title = data
    ? `${data.exam.title} in hall ${selection.hallId}`
    : `${selection.examId} in hall ${selection.hallId}`;

  return (
    <section aria-labelledby="examinees-heading" class="examinees">
      <div class="section-head">
        <h2 id="examinees-heading">Examinees: {title}</h2>
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="tools">
        <label for="search">Search by name or ID</label>
        <input id="search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        {admin && (
          <form
            class="everyone"
            onSubmit={(e) => {
              e.preventDefault();
              const n = Number(everyone);
              if (everyone.trim() === '' || !Number.isInteger(n) || n < 0 || n > 100) {
                setMessage({ text: 'Max downloads is a whole number from 0 to 100.', error: true });
                return;
              }
              void setMax(n);
            }}
          >
            <label for="max-everyone">Max downloads for everyone</label>
            <input
              id="max-everyone"
              inputMode="numeric"
              pattern="[0-9]*"
              value={everyone}
              onInput={(e) => setEveryone(e.currentTarget.value)}
            />
            <button type="submit">Set</button>
          </form>
        )}
      </div>
      <p role="status" class={message?.error ? 'error' : 'ok'}>
        {message?.text ?? ''}
      </p>
      {data && (
        <div class="table-wrap">
          <table class="examinee-table">
            <caption class="visually-hidden">Examinees of {title}</caption>
            <thead>
              <tr>
                <th scope="col">Exam-taker</th>
                <th scope="col">Student ID</th>
                <th scope="col">Max downloads</th>
                <th scope="col">Downloads</th>
                <th scope="col">Upload status</th>
                <th scope="col">Late</th>
                <th scope="col">Changed after time-up</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.studentId} data-student={r.studentId}>
                  <th scope="row">{r.name || '(not on the roster)'}</th>
                  <td>{r.studentId}</td>
                  <td data-col="max">
                    {admin ? (
                      <span class="stepper">
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Fewer downloads for ${r.name || r.studentId}`}
                          disabled={r.maxDownloads <= 0}
                          onClick={() => void setMax(r.maxDownloads - 1, r)}
                        >
                          −
                        </button>
                        <span class="max-value">{r.maxDownloads}</span>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`More downloads for ${r.name || r.studentId}`}
                          disabled={r.maxDownloads >= 100}
                          onClick={() => void setMax(r.maxDownloads + 1, r)}
                        >
                          +
                        </button>
                      </span>
                    ) : (
                      r.maxDownloads
                    )}
                  </td>
                  <td data-col="downloads">
                    {r.downloads}
                    {r.firstDownloadAt && <span class="sub"> first {dateTime(r.firstDownloadAt)}</span>}
                  </td>
                  <td data-col="upload" class={r.uploadedAt ? 'uploaded' : ''}>
                    {r.uploadedAt ? dateTime(r.uploadedAt) : 'Not uploaded'}
                    {r.uploads > 1 && <span class="sub"> ({r.uploads} uploads)</span>}
                  </td>
                  <td data-col="late">{r.late ? <span class="flag flag-late">Late</span> : 'No'}</td>
                  <td data-col="changed">
                    {r.changedAfterTimeUp ? <span class="flag flag-changed">Changed</span> : 'No'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p class="note">No examinee matches “{search}”.</p>}
        </div>
      )}
    </section>
  );
}

/**
 * Publish an exam and its roster to one or more halls (admins): the two files are read here and
 * sent as text; the server validates them as `npm run sync -- publish` does and lists every
 * fault as file:line:column.
 */
import { useState } from 'preact/hooks';
import type { OverviewResponse, PublishResponse } from '../../shared/api.js';
import { api, ApiError } from './api.js';

/** The files' size limit is the server's (PORTAL_MAX_UPLOAD_BYTES); this only spares a long wait. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

async function readFile(input: HTMLInputElement | null): Promise<{ name: string; text: string } | undefined> {
  const file = input?.files?.[0];
  if (!file) return undefined;
  if (file.size > MAX_FILE_BYTES) throw new Error(`${file.name} is too large.`);
  return { name: file.name, text: await file.text() };
}

export function PublishPanel({ overview, onPublished }: { overview: OverviewResponse; onPublished: () => void }) {
  const [halls, setHalls] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<PublishResponse | undefined>();
  const [error, setError] = useState<{ message: string; lines: string[] } | undefined>();
  const available = overview.halls.filter((h) => h.access === 'ok').map((h) => h.hallId);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    setResult(undefined);
    setError(undefined);
    setBusy(true);
    try {
      const exam = await readFile(form.querySelector<HTMLInputElement>('#exam-file'));
      const roster = await readFile(form.querySelector<HTMLInputElement>('#roster-file'));
      if (!exam || !roster) throw new Error('Choose the exam file and the roster file.');
      if (halls.length === 0) throw new Error('Choose at least one hall.');
      setResult(await api<PublishResponse>('/api/publish', { method: 'POST', body: { exam, roster, halls } }));
      onPublished();
    } catch (err) {
      setError({
        message: err instanceof Error ? err.message : String(err),
        lines: err instanceof ApiError ? err.errors : [],
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="publish-heading" class="publish">
      <h2 id="publish-heading">Publish an exam and roster</h2>
      <form onSubmit={(e) => void submit(e)}>
        <div class="files">
          <div>
            <label for="exam-file">Exam file (.json)</label>
            <input id="exam-file" type="file" accept=".json,application/json" required />
          </div>
          <div>
            <label for="roster-file">Roster (.csv or .json)</label>
            <input id="roster-file" type="file" accept=".csv,.json,text/csv,application/json" required />
          </div>
        </div>
        <fieldset>
          <legend>Halls</legend>
          {available.map((h) => (
            <label class="check" key={h}>
              <input
                type="checkbox"
                name="hall"
                value={h}
                checked={halls.includes(h)}
                onChange={(e) =>
                  setHalls((list) => (e.currentTarget.checked ? [...list, h] : list.filter((x) => x !== h)))
                }
              />
              Hall {h}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy}>
          {busy ? 'Publishing…' : 'Publish'}
        </button>
      </form>
      <div role="status" class="publish-result">
        {result && (
          <>
            <p class="ok">
              Published “{result.title}” ({result.examId}).
            </p>
            <ul>
              {result.halls.map((h) => (
                <li key={h.hallId}>
                  Hall {h.hallId}: exam {h.exam}; examinees {h.examinees.created} new, {h.examinees.updated} updated,{' '}
                  {h.examinees.unchanged} unchanged
                  {h.notInRoster > 0 ? `; ${h.notInRoster} on the central roster but not in this one (kept)` : ''}.
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
      {error && (
        <div class="error" role="alert">
          <p>{error.message}</p>
          {error.lines.length > 0 && (
            <ul class="import-errors">
              {error.lines.map((l) => (
                <li key={l}>
                  <code>{l}</code>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

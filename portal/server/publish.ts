/**
 * Publishing from the page and changing max downloads centrally, as the signed-in admin.
 *
 * Publish is the very path of `npm run sync -- publish`: the exam file and roster validated by
 * the appliance's importer (domain/exam-import.ts, domain/roster-import.ts; errors as
 * `file:line:column`), then `publishExam` (sync/central/institution.ts) into each hall chosen.
 * Every hall is checked to exist before anything is written.
 *
 * Max downloads is a roster field (`examinee:<examId>:<studentId>`.maxDownloads): a central
 * change is a new revision of those examinee documents. A running box picks it up with its pull
 * (HallStore.applyPulled → setExaminee); a proctor's own change on the box (the
 * `max-downloads-set` event) still wins there.
 */
import type { ExamDoc, ExamineeDoc } from '../../domain/exam-format.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { formatImportErrors } from '../../domain/import-errors.js';
import { parseRoster, rosterFormatFromName } from '../../domain/roster-import.js';
import { hallDbName } from '../../sync/central-link.js';
import { publishExam } from '../../sync/central/institution.js';
import type { MaxDownloadsResponse, PublishRequest, PublishResponse } from '../shared/api.js';
import { type Couch, CouchError, type CouchSession } from './couch.js';
import { type HallReader, PortalRefusalError } from './halls.js';

export type ParsedPublish = { ok: true; exam: ExamDoc; examinees: ExamineeDoc[] } | { ok: false; errors: string[] };

/** Validates the two files as the CLI does; errors name file:line:column. */
export function parsePublish(request: PublishRequest): ParsedPublish {
  const format = rosterFormatFromName(request.roster.name);
  if (!format) return { ok: false, errors: [`${request.roster.name}: the roster must be a .csv or .json file`] };
  const examResult = parseExamFile(request.exam.text);
  if (!examResult.ok)
    return { ok: false, errors: formatImportErrors(request.exam.name, examResult.errors).split('\n') };
  const exam = examResult.exam;
  const rosterResult = parseRoster(request.roster.text, format, exam.examId);
  if (!rosterResult.ok)
    return { ok: false, errors: formatImportErrors(request.roster.name, rosterResult.errors).split('\n') };
  return {
    ok: true,
    exam: toExamDoc(exam),
    examinees: rosterResult.entries.map((e) => toExamineeDoc(exam.examId, e)),
  };
}

export async function publishToHalls(
  couch: Couch,
  reader: HallReader,
  session: CouchSession,
  parsed: { exam: ExamDoc; examinees: ExamineeDoc[] },
  halls: readonly string[],
): Promise<PublishResponse> {
  for (const hall of halls) await reader.readableHall(session, hall);
  const results: PublishResponse['halls'] = [];
  for (const hallId of halls) {
    const report = await publishExam(couch.database(session, hallDbName(hallId)), parsed.exam, parsed.examinees);
    results.push({ hallId, exam: report.exam, examinees: report.examinees, notInRoster: report.notInRoster.length });
  }
  return { examId: parsed.exam.examId, title: parsed.exam.title, halls: results };
}

/** Sets maxDownloads on the exam's examinee documents in a hall (all, or the ones named). */
export async function setMaxDownloads(
  couch: Couch,
  reader: HallReader,
  session: CouchSession,
  hallId: string,
  examId: string,
  maxDownloads: number,
  studentIds: readonly string[] | undefined,
): Promise<MaxDownloadsResponse> {
  await reader.readableHall(session, hallId);
  const db = `/${hallDbName(hallId)}`;
  await reader.knownExam(session, hallId, examId);
  const prefix = `examinee:${examId}:`;
  type Rows = { rows: { key: string; doc?: ExamineeDoc | null; error?: string }[] };
  const found =
    studentIds === undefined
      ? await couch.json<Rows>(session, 'GET', `${db}/_all_docs`, {
          query: { startkey: JSON.stringify(prefix), endkey: JSON.stringify(`${prefix}\ufff0`), include_docs: 'true' },
        })
      : await couch.json<Rows>(session, 'POST', `${db}/_all_docs`, {
          query: { include_docs: 'true' },
          body: { keys: studentIds.map((s) => `${prefix}${s}`) },
        });
  const missing = found.rows.filter((r) => !r.doc);
  if (missing.length > 0)
    throw new PortalRefusalError(
      'unknown-examinee',
      missing
        .slice(0, 5)
        .map((r) => r.key.slice(prefix.length))
        .join(', '),
    );
  const docs = found.rows.flatMap((r) => (r.doc ? [r.doc] : []));
  const changed = docs.filter((d) => d.maxDownloads !== maxDownloads).map((d) => ({ ...d, maxDownloads }));
  if (changed.length > 0) {
    const results = await couch.json<{ id: string; error?: string; reason?: string }[]>(
      session,
      'POST',
      `${db}/_bulk_docs`,
      { body: { docs: changed } },
    );
    const failed = results.find((r) => r.error !== undefined);
    if (failed)
      throw new CouchError(failed.error === 'forbidden' ? 403 : 409, failed.error!, failed.reason ?? failed.id);
  }
  return { updated: changed.length, unchanged: docs.length - changed.length };
}

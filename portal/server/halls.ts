/**
 * Reading the halls through CouchDB's own HTTP API and the `_design/portal` views, as the
 * signed-in user: which halls, each hall's exams with their totals (reduced by CouchDB), its
 * boxes' heartbeats, and the per-examinee table of one exam.
 *
 * Which halls: PORTAL_HALLS when set; else an admin's `_all_dbs` filtered to `hall-*` (CouchDB 3
 * lets only admins list databases), and for anyone else the halls their roles name
 * (`hall:<hallId>`, the role that admits a hall's members, contract C4).
 */
import { hallDbName } from '../../sync/central-link.js';
import { isCurrentPortalDesign, PORTAL_DESIGN_DOC_ID, portalDesignDoc } from '../../sync/central/portal-design.js';
import type {
  BoxStatus,
  DesignState,
  ExamineeRow,
  ExamineesResponse,
  ExamSummary,
  ExamTotals,
  HallOverview,
  Heartbeat,
  OverviewResponse,
} from '../shared/api.js';
import { boxStatus, type BoxStatusThresholds } from '../shared/box-status.js';
import { type Couch, CouchError, type CouchSession, isAdmin } from './couch.js';

const HALL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HALL_DB = /^hall-([a-z0-9][a-z0-9-]{0,62})$/;

/** A refusal the routes turn into a 4xx (code from PORTAL_ERRORS). */
export class PortalRefusalError extends Error {
  constructor(
    readonly code:
      | 'unknown-hall'
      | 'unknown-exam'
      | 'no-access'
      | 'unauthenticated'
      | 'admin-only'
      | 'unknown-examinee'
      | 'views-missing',
    readonly detail?: string,
  ) {
    super(detail ?? code);
  }
}

interface ViewRow<K, V> {
  key: K;
  value: V;
  id?: string;
}

interface ExamRowValue {
  title: string;
  scheduledStart: string;
  durationMinutes: number;
  uploadDeadline: string | null;
  downloadWindow: { opens: string; closes: string };
}

const EMPTY_TOTALS: ExamTotals = {
  studentsPosted: 0,
  downloads: 0,
  downloaded: 0,
  uploads: 0,
  uploaded: 0,
  late: 0,
  changedAfterTimeUp: 0,
};

/** The `totals` view's value, in its order (sync/central/portal-design.ts). */
function totalsOf(sums: unknown): ExamTotals {
  const n = (i: number) => (Array.isArray(sums) && typeof sums[i] === 'number' ? (sums[i] as number) : 0);
  return {
    studentsPosted: n(0),
    downloads: n(1),
    downloaded: n(2),
    uploads: n(3),
    uploaded: n(4),
    late: n(5),
    changedAfterTimeUp: n(6),
  };
}

export interface HallReaderOptions {
  /** PORTAL_HALLS: empty for "find them". */
  halls: readonly string[];
  thresholds: BoxStatusThresholds;
  now: () => number;
}

export class HallReader {
  /** Halls whose design document was found current (or installed), when. */
  readonly #designChecked = new Map<string, number>();

  constructor(
    private readonly couch: Couch,
    private readonly options: HallReaderOptions,
  ) {}

  /** The halls this user is shown, and where the list came from. */
  async hallIds(session: CouchSession): Promise<{ from: OverviewResponse['hallsFrom']; ids: string[] }> {
    if (this.options.halls.length > 0) return { from: 'configured', ids: [...this.options.halls] };
    if (isAdmin(session)) {
      const dbs = await this.couch.json<string[]>(session, 'GET', '/_all_dbs');
      return { from: 'all-dbs', ids: dbs.flatMap((d) => HALL_DB.exec(d)?.[1] ?? []).sort() };
    }
    const ids = session.roles.flatMap((r) => (r.startsWith('hall:') && HALL_ID.test(r.slice(5)) ? [r.slice(5)] : []));
    return { from: 'roles', ids: [...new Set(ids)].sort() };
  }

  async overview(session: CouchSession): Promise<OverviewResponse> {
    const { from, ids } = await this.hallIds(session);
    const halls = await Promise.all(ids.map((id) => this.hall(session, id)));
    let note: string | null = null;
    if (ids.length === 0) {
      note =
        from === 'roles'
          ? 'Your CouchDB user has no hall:<id> role, and only admins may list the databases: ask for the role, or set PORTAL_HALLS.'
          : 'There is no hall-* database on the central CouchDB yet.';
    }
    return { at: new Date(this.options.now()).toISOString(), hallsFrom: from, halls, note };
  }

  /** One hall: its exams with totals and its boxes; `no-access` or `missing` instead of failing. */
  async hall(session: CouchSession, hallId: string): Promise<HallOverview> {
    const empty = (access: HallOverview['access']): HallOverview => ({
      hallId,
      access,
      design: 'missing',
      exams: [],
      boxes: [],
    });
    const access = await this.access(session, hallId);
    if (access !== 'ok') return empty(access);
    const design = await this.ensureDesign(session, hallId);
    if (design === 'missing') return { ...empty('ok'), design };
    const [exams, boxes] = await Promise.all([this.exams(session, hallId), this.boxes(session, hallId)]);
    return { hallId, access: 'ok', design, exams, boxes };
  }

  /** The per-examinee table of an exam in a hall. */
  async examinees(session: CouchSession, hallId: string, examId: string): Promise<ExamineesResponse> {
    await this.readableHall(session, hallId);
    if ((await this.ensureDesign(session, hallId)) === 'missing') throw new PortalRefusalError('views-missing', hallId);
    const exam = (await this.exams(session, hallId)).find((e) => e.examId === examId);
    if (!exam) throw new PortalRefusalError('unknown-exam', `${examId} in hall ${hallId}`);
    const range = { startkey: JSON.stringify([examId]), endkey: JSON.stringify([examId, {}]) };
    const [roster, downloads, uploads, flags] = await Promise.all([
      this.view<
        [string, string],
        { name: string; maxDownloads: number; examineeId: string | null; seat: string | null }
      >(session, hallId, 'examinees', range),
      this.view<[string, string], { count: number; min: number }>(session, hallId, 'downloads', {
        ...range,
        group_level: '2',
      }),
      this.view<[string, string], { count: number; max: number }>(session, hallId, 'uploads', {
        ...range,
        group_level: '2',
      }),
      this.view<[string, string, string], number>(session, hallId, 'flags', { ...range, group_level: '3' }),
    ]);
    const rows = new Map<string, ExamineeRow>();
    const row = (studentId: string): ExamineeRow => {
      let r = rows.get(studentId);
      if (!r) {
        r = {
          studentId,
          name: '',
          examineeId: null,
          seat: null,
          maxDownloads: 0,
          downloads: 0,
          firstDownloadAt: null,
          uploads: 0,
          uploadedAt: null,
          late: false,
          changedAfterTimeUp: false,
        };
        rows.set(studentId, r);
      }
      return r;
    };
    for (const { key, value } of roster) {
      const r = row(key[1]);
      r.name = value.name;
      r.examineeId = value.examineeId;
      r.seat = value.seat;
      r.maxDownloads = value.maxDownloads;
    }
    for (const { key, value } of downloads) {
      const r = row(key[1]);
      r.downloads = value.count;
      r.firstDownloadAt = new Date(value.min).toISOString();
    }
    for (const { key, value } of uploads) {
      const r = row(key[1]);
      r.uploads = value.count;
      r.uploadedAt = new Date(value.max).toISOString();
    }
    for (const { key, value } of flags) {
      if (value <= 0) continue;
      if (key[2] === 'late') row(key[1]).late = true;
      if (key[2] === 'changed-after-time-up') row(key[1]).changedAfterTimeUp = true;
    }
    return {
      hallId,
      exam,
      rows: [...rows.values()].sort((a, b) => (a.studentId < b.studentId ? -1 : a.studentId > b.studentId ? 1 : 0)),
    };
  }

  /** Throws unknown-hall / no-access unless the user can read the hall. */
  async readableHall(session: CouchSession, hallId: string): Promise<void> {
    if (!HALL_ID.test(hallId)) throw new PortalRefusalError('unknown-hall', hallId);
    const access = await this.access(session, hallId);
    if (access === 'missing') throw new PortalRefusalError('unknown-hall', hallId);
    if (access === 'no-access') throw new PortalRefusalError('no-access', hallId);
  }

  /** The exam summaries of a hall (the exams view joined with the totals view). */
  async exams(session: CouchSession, hallId: string): Promise<ExamSummary[]> {
    const [exams, totals] = await Promise.all([
      this.view<string, ExamRowValue>(session, hallId, 'exams', {}),
      this.view<[string], number[]>(session, hallId, 'totals', { group_level: '1' }),
    ]);
    const byExam = new Map(totals.map((r) => [r.key[0], totalsOf(r.value)]));
    return exams
      .map(({ key, value }) => ({
        examId: key,
        title: value.title,
        scheduledStart: value.scheduledStart,
        durationMinutes: value.durationMinutes,
        uploadDeadline: value.uploadDeadline,
        downloadWindow: value.downloadWindow,
        totals: byExam.get(key) ?? { ...EMPTY_TOTALS },
      }))
      .sort((a, b) => (a.scheduledStart < b.scheduledStart ? -1 : a.scheduledStart > b.scheduledStart ? 1 : 0));
  }

  async boxes(session: CouchSession, hallId: string): Promise<BoxStatus[]> {
    const rows = await this.view<string, Heartbeat>(session, hallId, 'boxes', {});
    const now = this.options.now();
    return rows.map((r) => boxStatus(r.value, now, this.options.thresholds));
  }

  /** Throws unknown-exam unless the hall has `exam:<examId>`. */
  async knownExam(session: CouchSession, hallId: string, examId: string): Promise<void> {
    const res = await this.couch.request(
      session,
      'GET',
      `/${hallDbName(hallId)}/${encodeURIComponent(`exam:${examId}`)}`,
    );
    await res.body?.cancel();
    if (res.status === 404) throw new PortalRefusalError('unknown-exam', `${examId} in hall ${hallId}`);
    if (!res.ok) throw new CouchError(res.status, 'error', `reading exam:${examId}`);
  }

  /** Whether the user can read the hall database (`GET /hall-<id>`). */
  async access(session: CouchSession, hallId: string): Promise<HallOverview['access']> {
    const res = await this.couch.request(session, 'GET', `/${hallDbName(hallId)}`);
    await res.body?.cancel();
    if (res.ok) return 'ok';
    if (res.status === 404) return 'missing';
    if (res.status === 401 || res.status === 403) {
      // 401 also means "your session is over": tell the two apart.
      if (res.status === 401 && !(await this.stillSignedIn(session))) throw new PortalRefusalError('unauthenticated');
      return 'no-access';
    }
    throw new CouchError(res.status, 'error', `reading ${hallDbName(hallId)}`);
  }

  async stillSignedIn(session: CouchSession): Promise<boolean> {
    const res = await this.couch.request(session, 'GET', '/_session');
    const body = (await res.json().catch(() => ({}))) as { userCtx?: { name?: string | null } };
    return res.ok && typeof body.userCtx?.name === 'string';
  }

  /**
   * `_design/portal` is there and current: installed or updated now when the user is an admin;
   * otherwise `missing` or `outdated` (the views are read as they are).
   */
  async ensureDesign(session: CouchSession, hallId: string): Promise<DesignState> {
    const checked = this.#designChecked.get(hallId);
    if (checked !== undefined && this.options.now() - checked < 5 * 60_000) return 'ok';
    const path = `/${hallDbName(hallId)}/${PORTAL_DESIGN_DOC_ID}`;
    const res = await this.couch.request(session, 'GET', path);
    const installed = res.ok
      ? ((await res.json()) as { _rev: string; language?: unknown; views?: unknown })
      : undefined;
    if (!res.ok) await res.body?.cancel();
    if (!res.ok && res.status !== 404) throw new CouchError(res.status, 'error', `reading ${path}`);
    if (isCurrentPortalDesign(installed)) {
      this.#designChecked.set(hallId, this.options.now());
      return 'ok';
    }
    if (!isAdmin(session)) return installed ? 'outdated' : 'missing';
    await this.couch.json(session, 'PUT', path, {
      body: { ...portalDesignDoc(), ...(installed ? { _rev: installed._rev } : {}) },
    });
    this.#designChecked.set(hallId, this.options.now());
    return installed ? 'updated' : 'installed';
  }

  async view<K, V>(
    session: CouchSession,
    hallId: string,
    view: string,
    query: Record<string, string>,
  ): Promise<ViewRow<K, V>[]> {
    const body = await this.couch.json<{ rows: ViewRow<K, V>[] }>(
      session,
      'GET',
      `/${hallDbName(hallId)}/${PORTAL_DESIGN_DOC_ID}/_view/${view}`,
      { query },
    );
    return body.rows;
  }
}

/**
 * Test support for the portal: the central stand-in (central-server.ts) holding three halls with
 * data written as publish and the boxes write it — exams and rosters by the institution's
 * publish, hash-chained `package-downloaded` events, submissions in both id forms (contract C1)
 * with their answer files as chunk documents, and box heartbeats (contract C3) — and the portal
 * itself on a port, serving the built page.
 *
 *   a101  Physics (10 on the roster): S1001 downloads twice, S1002, S1003 once on box a101-1,
 *         S1004 once on box a101-2; S1001 submits (legacy id, on time), S1002 (late), S1003
 *         (changed after time-up). Boxes: a101-1 green, a101-2 amber (heartbeat 5 min old).
 *   b202  Physics (5: S1011-S1015): S1011 downloads and submits. Box b202-1: clock untrusted (red).
 *   c303  Chemistry (4: S1021-S1024), nothing yet. Box c303-1: offline (red).
 * Users: the admin; `staff-a101` (role hall:a101), who may read a101 only.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { chainEvent, GENESIS_HASH, type ExamEvent, type NewEvent } from '../../domain/events.js';
import { SCHEMA_VERSION, type ExamFile } from '../../domain/exam-format.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { parseRoster } from '../../domain/roster-import.js';
import { writeBlobChunks } from '../../sync/blob-chunks.js';
import { openCentralDb } from '../../sync/central-link.js';
import { publishExam } from '../../sync/central/institution.js';
import { buildPortalApp, type PortalDeps } from '../../portal/server/app.js';
import { loadPortalConfig, type PortalConfig } from '../../portal/server/config.js';
import { Couch } from '../../portal/server/couch.js';
import { portalStaticFiles } from '../../portal/server/static.js';
import type { Heartbeat } from '../../portal/shared/api.js';
import { type CentralServer, type CentralUser, startCentralServer } from './central-server.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
export const EXAM_FILE = path.join(REPO, 'examples', 'exam-demo.json');
export const ROSTER_FILE = path.join(REPO, 'examples', 'roster-demo.csv');
export const HALLS = ['a101', 'b202', 'c303'] as const;
export const PHYSICS = 'demo-physics-101';
export const CHEMISTRY = 'chem-201';

/** The demo exam file, and a second exam made from it (another id, title, no upload deadline). */
export function examFiles(): { physics: string; chemistry: string } {
  const physics = readFileSync(EXAM_FILE, 'utf8');
  const exam = JSON.parse(physics) as Record<string, unknown>;
  const chemistry = JSON.stringify(
    { ...exam, examId: CHEMISTRY, title: 'Chemistry 201 — Final', uploadDeadline: undefined },
    null,
    2,
  );
  return { physics, chemistry };
}

/** The demo roster's rows from..to (1-based, inclusive) as CSV. */
export function rosterCsv(from: number, to: number): string {
  const lines = readFileSync(ROSTER_FILE, 'utf8').trimEnd().split('\n');
  return `${[lines[0], ...lines.slice(from, to + 1)].join('\n')}\n`;
}

export interface PortalHalls {
  central: CentralServer;
  admin: CentralUser;
  staff: CentralUser;
  db(hallId: string): PouchDB.Database;
  /** Writes a submission (C1 id) with its answer file's chunks, as a box's push would. */
  addSubmission(
    hallId: string,
    s: { examId: string; studentId: string; applianceId: string; n?: number; late?: boolean; timing?: string },
  ): Promise<string>;
  addDownload(hallId: string, examId: string, applianceId: string, studentId: string): Promise<void>;
  putHeartbeat(hallId: string, heartbeat: Heartbeat): Promise<void>;
  close(): Promise<void>;
}

function parsedExam(text: string): ExamFile {
  const r = parseExamFile(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.exam;
}

export function heartbeat(applianceId: string, hallId: string, overrides: Partial<Heartbeat> = {}): Heartbeat {
  const at = new Date().toISOString();
  return {
    applianceId,
    hallId,
    version: '0.1.0',
    at,
    clockTrusted: true,
    state: 'idle',
    lastContactAt: at,
    lastSuccessAt: at,
    pending: { docs: 0, bytes: 0 },
    refused: 0,
    startedAt: at,
    ...overrides,
  };
}

export async function startPortalHalls(): Promise<PortalHalls> {
  const central = await startCentralServer();
  const admin = central.admin;
  const staff = central.addUser('staff-a101', 'staff-secret', ['hall:a101']);
  const adminLink = central.link(admin);
  const db = (hallId: string) => openCentralDb(adminLink, hallId);
  const work = await mkdtemp(path.join(tmpdir(), 'portal-halls-'));
  const heads = new Map<string, { seq: number; hash: string }>();
  let receivedAt = Date.parse('2026-06-15T09:50:00Z');

  for (const hallId of HALLS) {
    const created = openCentralDb(adminLink, hallId, { create: true });
    await created.info();
    const res = await fetch(`${central.url}/hall-${hallId}/_security`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ admins: { names: [], roles: [] }, members: { names: [], roles: [`hall:${hallId}`] } }),
    });
    if (!res.ok) throw new Error(`security of hall-${hallId}: ${res.status}`);
  }

  const publish = async (hallId: string, examText: string, roster: string) => {
    const exam = parsedExam(examText);
    const r = parseRoster(roster, 'csv', exam.examId);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    await publishExam(
      db(hallId),
      toExamDoc(exam),
      r.entries.map((e) => toExamineeDoc(exam.examId, e)),
    );
  };

  const record = async (hallId: string, examId: string, applianceId: string, event: NewEvent, at: number) => {
    const key = `${hallId}|${examId}|${applianceId}`;
    const head = heads.get(key) ?? { seq: 0, hash: GENESIS_HASH };
    const e: ExamEvent = chainEvent(head, examId, applianceId, at, event, SCHEMA_VERSION);
    heads.set(key, e);
    await db(hallId).put(e as unknown as PouchDB.Doc);
  };
  const downloadsOf = new Map<string, number>();
  const addDownload: PortalHalls['addDownload'] = async (hallId, examId, applianceId, studentId) => {
    const key = `${hallId}|${examId}|${studentId}`;
    const downloadNo = (downloadsOf.get(key) ?? 0) + 1;
    downloadsOf.set(key, downloadNo);
    await record(
      hallId,
      examId,
      applianceId,
      {
        kind: 'package-downloaded',
        actor: { role: 'examinee', studentId },
        studentId,
        data: { downloadNo, packageVersion: 'v1' },
      },
      Date.parse('2026-06-15T08:30:00Z') + downloadNo * 60_000,
    );
  };

  let fileNo = 0;
  const submission = async (
    hallId: string,
    s: { examId: string; studentId: string; applianceId: string; n?: number; late?: boolean; timing?: string },
    legacyId: boolean,
  ): Promise<string> => {
    const n = s.n ?? 1;
    const bytes = Buffer.from(JSON.stringify({ examId: s.examId, studentId: s.studentId, answers: {}, no: ++fileNo }));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(work, sha256);
    await writeFile(file, bytes);
    await writeBlobChunks(db(hallId), file, sha256, s.applianceId);
    receivedAt += 60_000;
    const _id = legacyId
      ? `submission:${s.examId}:${s.studentId}:${n}`
      : `submission:${s.examId}:${s.studentId}:${s.applianceId}:${n}`;
    await db(hallId).put({
      _id,
      type: 'submission',
      schemaVersion: SCHEMA_VERSION,
      examId: s.examId,
      studentId: s.studentId,
      n,
      applianceId: s.applianceId,
      sha256,
      size: bytes.length,
      submissionType: 'manual',
      receivedAt,
      late: s.late ?? false,
      timing: s.timing ?? (s.late ? 'late' : 'on-time'),
      receipt: { payload: {}, signature: '', publicKey: '' },
      score: { score: 0, maxScore: 10, answered: 0, total: 5 },
    });
    return _id;
  };
  const putHeartbeat: PortalHalls['putHeartbeat'] = async (hallId, hb) => {
    const id = `appliance-status:${hb.applianceId}`;
    const old = await db(hallId)
      .get(id)
      .catch(() => undefined);
    await db(hallId).put({ _id: id, ...(old ? { _rev: old._rev } : {}), type: 'appliance-status', ...hb });
  };

  const { physics, chemistry } = examFiles();
  await publish('a101', physics, rosterCsv(1, 10));
  await publish('b202', physics, rosterCsv(11, 15));
  await publish('c303', chemistry, rosterCsv(21, 24));

  await addDownload('a101', PHYSICS, 'box-a101-1', 'S1001');
  await addDownload('a101', PHYSICS, 'box-a101-1', 'S1001');
  await addDownload('a101', PHYSICS, 'box-a101-1', 'S1002');
  await addDownload('a101', PHYSICS, 'box-a101-1', 'S1003');
  await addDownload('a101', PHYSICS, 'box-a101-2', 'S1004');
  await submission('a101', { examId: PHYSICS, studentId: 'S1001', applianceId: 'box-a101-1' }, true);
  await submission('a101', { examId: PHYSICS, studentId: 'S1002', applianceId: 'box-a101-1', late: true }, false);
  await submission(
    'a101',
    { examId: PHYSICS, studentId: 'S1003', applianceId: 'box-a101-1', timing: 'changed-after-time-up' },
    false,
  );
  await addDownload('b202', PHYSICS, 'box-b202-1', 'S1011');
  await submission('b202', { examId: PHYSICS, studentId: 'S1011', applianceId: 'box-b202-1' }, false);

  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  await putHeartbeat('a101', heartbeat('box-a101-1', 'a101'));
  await putHeartbeat(
    'a101',
    heartbeat('box-a101-2', 'a101', { at: minutesAgo(5), lastContactAt: minutesAgo(5), lastSuccessAt: minutesAgo(5) }),
  );
  await putHeartbeat('b202', heartbeat('box-b202-1', 'b202', { clockTrusted: false }));
  await putHeartbeat(
    'c303',
    heartbeat('box-c303-1', 'c303', {
      state: 'offline',
      lastSuccessAt: minutesAgo(2),
      pending: { docs: 12, bytes: 4096 },
    }),
  );

  return {
    central,
    admin,
    staff,
    db,
    addSubmission: (hallId, s) => submission(hallId, s, false),
    addDownload,
    putHeartbeat,
    close: async () => {
      await central.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}

export function portalConfig(couchUrl: string, env: Record<string, string> = {}): PortalConfig {
  const loaded = loadPortalConfig({ PORTAL_COUCH_URL: couchUrl, PORTAL_PORT: '0', ...env });
  if (!loaded.ok) throw new Error(loaded.errors.join('; '));
  return loaded.config;
}

/** The portal on 127.0.0.1 (a free port), serving the built page from portal/dist. */
export async function startPortal(
  couchUrl: string,
  options: { env?: Record<string, string>; deps?: Partial<PortalDeps> } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const { app } = buildPortalApp({
    config: portalConfig(couchUrl, options.env),
    couch: new Couch(couchUrl),
    staticFiles: portalStaticFiles(),
    log: () => undefined,
    ...options.deps,
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `_design/portal` through the stand-in's view engine (PouchDB map/reduce, as CouchDB runs it):
 * installed once, the totals and per-examinee views of both submission id forms (contract C1),
 * and the heartbeat view (contract C3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCentralDb } from '../central-link.js';
import { startCentralServer, type CentralServer } from '../../tests/support/central-server.js';
import { installPortalDesign, portalDesignDoc, isCurrentPortalDesign } from './portal-design.js';

let central: CentralServer;
let db: PouchDB.Database;

beforeAll(async () => {
  central = await startCentralServer();
  db = openCentralDb(central.link(central.admin), 'views', { create: true });
});
afterAll(async () => {
  await central?.close();
});

type Rows = { rows: { key: unknown; value: unknown }[] };
const view = async (name: string, query: Record<string, string> = {}): Promise<Rows> => {
  const url = new URL(`${central.url}/hall-views/_design/portal/_view/${name}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await fetch(url, {
    headers: {
      authorization: `Basic ${Buffer.from(`${central.admin.username}:${central.admin.password}`).toString('base64')}`,
    },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Rows;
};

describe('_design/portal', () => {
  it('installs once, then is current', async () => {
    expect(await installPortalDesign(db)).toBe('created');
    expect(await installPortalDesign(db)).toBe('unchanged');
    const stale = await db.get('_design/portal');
    await db.put({ ...stale, views: { exams: portalDesignDoc().views.exams } });
    expect(isCurrentPortalDesign((await db.get('_design/portal')) as { views?: unknown })).toBe(false);
    expect(await installPortalDesign(db)).toBe('updated');
  });

  it('reduces totals and per-examinee rows from both submission id forms', async () => {
    const sub = (id: string, studentId: string, n: number, extra: Record<string, unknown> = {}) => ({
      _id: id,
      type: 'submission',
      examId: 'x1',
      studentId,
      n,
      applianceId: 'box-1',
      receivedAt: 1_000 + n,
      late: false,
      ...extra,
    });
    await db.bulkDocs([
      {
        _id: 'exam:x1',
        type: 'exam',
        examId: 'x1',
        title: 'X',
        scheduledStart: 's',
        durationMinutes: 5,
        downloadWindow: {},
      },
      { _id: 'examinee:x1:S1', type: 'examinee', examId: 'x1', studentId: 'S1', name: 'One', maxDownloads: 2 },
      { _id: 'examinee:x1:S2', type: 'examinee', examId: 'x1', studentId: 'S2', name: 'Two', maxDownloads: 2 },
      sub('submission:x1:S1:1', 'S1', 1),
      sub('submission:x1:S1:box-1:2', 'S1', 2, { late: true }),
      sub('submission:x1:S2:box-2:1', 'S2', 1, { timing: 'changed-after-time-up' }),
      {
        _id: 'event:x1:box-1:0000000001',
        type: 'event',
        examId: 'x1',
        kind: 'package-downloaded',
        studentId: 'S1',
        at: 50,
        data: { downloadNo: 1 },
      },
      {
        _id: 'event:x1:box-1:0000000002',
        type: 'event',
        examId: 'x1',
        kind: 'package-downloaded',
        studentId: 'S1',
        at: 70,
        data: { downloadNo: 2 },
      },
      {
        _id: 'event:x1:box-1:0000000003',
        type: 'event',
        examId: 'x1',
        kind: 'exam-started',
        studentId: 'S1',
        at: 80,
        data: {},
      },
      // Not what it says it is: ignored.
      { _id: 'draft:x1:S1', type: 'submission', examId: 'x1', studentId: 'S1', n: 1, receivedAt: 5 },
      {
        _id: 'appliance-status:box-1',
        type: 'appliance-status',
        applianceId: 'box-1',
        hallId: 'views',
        at: 'now',
        clockTrusted: true,
      },
      { _id: 'appliance-status:box-9', type: 'appliance-status', applianceId: 'box-2', hallId: 'views' },
    ]);
    expect((await view('totals', { group_level: '1' })).rows).toEqual([{ key: ['x1'], value: [2, 2, 1, 3, 2, 1, 1] }]);
    expect((await view('downloads', { group_level: '2' })).rows).toEqual([
      { key: ['x1', 'S1'], value: expect.objectContaining({ count: 2, min: 50, max: 70 }) },
    ]);
    expect((await view('uploads', { group_level: '2' })).rows).toEqual([
      { key: ['x1', 'S1'], value: expect.objectContaining({ count: 2, max: 1_002 }) },
      { key: ['x1', 'S2'], value: expect.objectContaining({ count: 1, max: 1_001 }) },
    ]);
    expect((await view('flags', { group_level: '3' })).rows).toEqual([
      { key: ['x1', 'S1', 'late'], value: 1 },
      { key: ['x1', 'S2', 'changed-after-time-up'], value: 1 },
    ]);
    expect((await view('examinees')).rows.map((r) => r.key)).toEqual([
      ['x1', 'S1'],
      ['x1', 'S2'],
    ]);
    const boxes = (await view('boxes')).rows;
    expect(boxes).toHaveLength(1);
    expect(boxes[0]).toMatchObject({
      key: 'box-1',
      value: { applianceId: 'box-1', clockTrusted: true, refused: 0, pending: null },
    });
  });
});

/**
 * The blob push (sync/blob-pusher.ts): chunks go up straight from the blob files. A link cut or a
 * restart of the sync in the middle of a 5 MiB blob resumes without re-sending what the server
 * has, and the blob verifies centrally; the box keeps markers only (no content in LevelDB, and
 * the pull does not bring it back); a chunk the central server refuses is kept in the refused
 * list and offered again from its file.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeDir } from '../support/appliance.js';
import { blobChunkId, chunkCount, reassembleBlob, writeBlobChunks } from '../../sync/blob-chunks.js';
import { openCentralDb } from '../../sync/central-link.js';
import { installDesign } from '../../sync/central/institution.js';
import { HallSync } from '../../sync/hall-sync.js';
import {
  startCentralServer,
  startCuttableLink,
  type CentralServer,
  type CentralUser,
  type CuttableLink,
} from '../support/central-server.js';
import { until } from '../support/push-day.js';
import { openSyncTestAppliance, recordExamDay, type SyncTestAppliance } from '../support/sync-exam-day.js';

const BIG = 5 * 2 ** 20;

describe('the blob push', () => {
  let server: CentralServer;
  let link: CuttableLink;
  let appliance: SyncTestAppliance;
  let user: CentralUser;
  let sync: HallSync | undefined;
  let big: string;
  let blobs: Map<string, number>;

  beforeEach(async () => {
    server = await startCentralServer();
    link = await startCuttableLink(server.url);
    appliance = await openSyncTestAppliance();
    await installDesign(openCentralDb(server.link(server.admin), 'h1', { create: true }), 'h1');
    user = server.addUser('hall-h1', 'hall-pass', [`appliance:${appliance.store.applianceId}`]);
    // Three examinees; the first also uploads a 5 MiB file answer (ten chunks).
    const day = await recordExamDay(appliance.store, { examinees: 3, fileEvery: 3, fileBytes: BIG });
    blobs = day.blobs;
    big = [...blobs].find(([, size]) => size === BIG)![0];
  });
  afterEach(async () => {
    await sync?.stop();
    sync = undefined;
    await appliance.store.close();
    await link.close();
    await server.close();
    await removeDir(appliance.dataDir);
  });

  const startSync = () => {
    sync = new HallSync({
      db: appliance.store.db,
      blobPath: (sha) => appliance.store.blobs.pathOf(sha),
      applianceId: appliance.store.applianceId,
      hallId: 'h1',
      link: server.link(user, link.url),
      clock: appliance.store.clock,
      onPulled: (docs) => void appliance.store.applyPulled(docs),
      backOff: { initialMs: 20, maxMs: 200 },
      // Two chunks (1 MiB) a request: the 5 MiB blob takes five.
      batchSize: { blobs: 2 },
      pendingIntervalMs: 50,
    });
    void sync.start();
    return sync;
  };

  const bigChunksReceived = () =>
    Array.from({ length: chunkCount(BIG) }, (_, i) => server.received.get(blobChunkId(big, i)) ?? 0);

  async function expectAllCentralAndVerified(): Promise<void> {
    const central = openCentralDb(server.link(server.admin), 'h1');
    for (const [sha, size] of blobs) {
      const hash = createHash('sha256');
      const result = await reassembleBlob(central, sha, (bytes) => void hash.update(bytes));
      expect(result, sha).toEqual({ ok: true, size });
      expect(hash.digest('hex')).toBe(sha);
    }
  }

  /** The box holds markers only: its own chunk documents without their content. */
  async function expectMarkersOnly(): Promise<void> {
    const local = await appliance.store.db.allDocs({ startkey: 'blob:', endkey: 'blob:\ufff0', include_docs: true });
    const expected = [...blobs.values()].reduce((n, size) => n + chunkCount(size), 0);
    expect(local.rows).toHaveLength(expected);
    for (const row of local.rows) {
      expect(row.doc, row.id).toMatchObject({ type: 'blob-chunk', applianceId: appliance.store.applianceId });
      expect(row.doc?._attachments, row.id).toBeUndefined();
    }
  }

  it('resumes after a cut in the middle of a 5 MiB blob, sends no chunk twice, and the blob verifies centrally', async () => {
    startSync();
    await until('three chunks of the big blob central', () => bigChunksReceived().filter((n) => n > 0).length >= 3);
    link.cut();
    await until('the appliance to notice the cut', () => sync!.status().state === 'offline');
    expect(bigChunksReceived().some((n) => n === 0)).toBe(true);
    link.restore();
    await until('everything pushed', () => sync!.status().state === 'idle' && sync!.status().pending?.docs === 0);
    expect(bigChunksReceived()).toEqual(Array.from({ length: chunkCount(BIG) }, () => 1));
    await expectAllCentralAndVerified();
    await expectMarkersOnly();
  });

  it('resumes after a restart of the sync in the middle of a 5 MiB blob without re-sending a chunk', async () => {
    startSync();
    await until('four chunks of the big blob central', () => bigChunksReceived().filter((n) => n > 0).length >= 4);
    await sync!.stop();
    expect(bigChunksReceived().some((n) => n === 0)).toBe(true);
    startSync();
    await until('everything pushed', () => sync!.status().state === 'idle' && sync!.status().pending?.docs === 0);
    expect(bigChunksReceived()).toEqual(Array.from({ length: chunkCount(BIG) }, () => 1));
    for (const [id, times] of server.received) expect(times, id).toBe(1);
    await expectAllCentralAndVerified();
    // A restart of the pull does not bring the content back either.
    await expectMarkersOnly();
  });

  it('keeps a refused chunk visible and offers it again from its file once the server takes it', async () => {
    // The institution's rules refuse blob chunks for now.
    const central = openCentralDb(server.link(server.admin), 'h1');
    await central.put({
      _id: '_design/no-blobs',
      validate_doc_update: `function (doc) { if (doc._id.indexOf('blob:') === 0) throw { forbidden: 'no blobs today' }; }`,
    });
    startSync();
    const chunks = [...blobs.values()].reduce((n, size) => n + chunkCount(size), 0);
    const refused = await until('the refusals', () => {
      const s = sync!.status();
      return s.refusedCount === chunks && s.pending?.docs === 0 ? s : undefined;
    });
    expect(refused.state).toBe('error');
    expect(refused.refused[0]).toMatchObject({ id: expect.stringMatching(/^blob:/), reason: 'no blobs today' });
    await central.bulkDocs([{ ...(await central.get('_design/no-blobs')), _deleted: true }]);
    sync!.syncNow();
    await until('taken', () => sync!.status().refusedCount === 0 && sync!.status().state === 'idle');
    await expectAllCentralAndVerified();
    await expectMarkersOnly();
  });

  it('stores exactly the chunk documents that replicating locally written chunk documents stores', async () => {
    startSync();
    await until('everything pushed', () => sync!.status().state === 'idle' && sync!.status().pending?.docs === 0);
    // The reference: chunk documents written into a LevelDB by the format's own writer, then
    // replicated with PouchDB's replicator to a database of their own.
    const reference = new PouchDB(path.join(appliance.dataDir, 'reference-db'));
    for (const sha of blobs.keys())
      await writeBlobChunks(reference, appliance.store.blobs.pathOf(sha), sha, appliance.store.applianceId);
    const admin = server.link(server.admin);
    await installDesign(openCentralDb(admin, 'ref', { create: true }), 'ref');
    await reference.replicate.to(openCentralDb(admin, 'ref'));
    await reference.close();
    const pushed = openCentralDb(admin, 'h1');
    const replicated = openCentralDb(admin, 'ref');
    for (const [sha, size] of blobs) {
      for (let i = 0; i < chunkCount(size); i++) {
        const id = blobChunkId(sha, i);
        const a = await pushed.get(id, { attachments: true, conflicts: true });
        const b = await replicated.get(id, { attachments: true, conflicts: true });
        expect(a, id).toEqual(b);
        expect((a as { _attachments?: Record<string, unknown> })._attachments?.chunk, id).toMatchObject({
          data: expect.any(String),
          digest: expect.any(String),
        });
      }
    }
  });
});

/**
 * The appliance's side of the sync: live replication of the hall database with `hall-<hallId>`
 * on the institution's CouchDB, with PouchDB's replicator (checkpointed: an interrupted sync
 * resumes from the last batch it completed).
 *
 * - Pull: everything the hall database holds (exams, rosters, assets, other boxes' events and
 *   submissions; it only holds this hall's data) but blob chunks, 50 a batch (another appliance's blob chunks or an asset may be large). Pulled exams and roster entries go to the projection at once (onPulled), so a
 *   published exam appears in the dashboard without a restart.
 * - Push, two of them:
 *     records: a replication of this appliance's `event:`, `submission:` and `receipt-key:`
 *              documents, 250 a batch, with a JS filter that the replicator runs locally on the
 *              source (never a Mango selector: the stand-in server mishandles them, and a local
 *              filter costs the server nothing);
 *     blobs:   the BlobPusher (blob-pusher.ts): the blob files this appliance's events name go
 *              up as `blob:` chunk documents built straight from the files (`_revs_diff`, then
 *              `_bulk_docs` with `new_edits: false`), at most 4 MiB of content a batch; their
 *              content is never written into LevelDB (only a marker per chunk).
 *   Drafts are not pushed (docs/sync.md says why).
 * - Offline: each replication retries with exponential backoff (1 s doubling, at most 30 s: a
 *   flapping hall link is back in sync within half a minute of coming back); `syncNow()` (the
 *   dashboard's "Sync now") tries at once.
 * - Refused documents (the central server's validate_doc_update said no) are kept in a list, shown
 *   in the status and offered again at each connection and "Sync now" (refused-docs.ts); the
 *   heartbeat `appliance-status:<applianceId>` is written to the central server every minute
 *   while the link is up, and the receipt key published once (published-docs.ts).
 * - Checkpoints only on the appliance (`checkpoint: 'target'` for the pull, `'source'` for the
 *   pushes): any member of the hall database may write its `_local/` documents (CouchDB runs no
 *   validate_doc_update for them), and a checkpoint read from there could make a push resume
 *   past documents it never sent (docs/sync.md, "What a box's user may do").
 * - Status: see sync-status.ts; the sync's own bookkeeping (the records push's seq, the blob
 *   push's seq, last success) lives in `_local/sync-state`, which never replicates.
 */
import type { Clock } from '../domain/clock.js';
import { BlobPusher } from './blob-pusher.js';
import { type CentralLink, checkCentralDb, hallDbName, openCentralDb, sessionOf } from './central-link.js';
import { applianceRole } from './central/validate-doc-update.js';
import { Heartbeat, RECEIPT_KEY_PREFIX, ensureReceiptKeyDoc, receiptKeyDoc } from './published-docs.js';
import { RefusedDocs, heldCentrally, offerAgain } from './refused-docs.js';
import {
  describeSyncError,
  type RefusedDoc,
  type SyncProblem,
  type SyncStatus,
  type SyncStatusSource,
} from './sync-status.js';

export interface HallSyncOptions {
  db: PouchDB.Database;
  /** Where a blob file lives (BlobStore.pathOf). */
  blobPath: (sha256: string) => string;
  applianceId: string;
  hallId: string;
  link: CentralLink;
  clock: Clock;
  /** Documents the pull wrote into the local database (exams, roster entries, ...). */
  onPulled: (docs: PouchDB.Doc[]) => void;
  log?: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** Retry waits: first wait and the cap (ms). Default 1 s to 30 s. */
  backOff?: { initialMs: number; maxMs: number };
  batchSize?: { pull?: number; records?: number; blobs?: number };
  /** Least time between two recomputations of the pending documents (ms). Default 2 s. */
  pendingIntervalMs?: number;
  /** The box's receipt public key (base64 raw Ed25519), published once as `receipt-key:<applianceId>`. */
  receiptPublicKey?: string;
  /** What the heartbeat says of the box besides the sync; no heartbeat without it. */
  identity?: { version: string; startedAt: string; clockTrusted: () => boolean };
  /** How often the heartbeat is written while the link is up (ms). Default 60 s. */
  heartbeatIntervalMs?: number;
}

/** This appliance's records the records push sends (chunks go by the blobs push). */
const isRecordId = (id: string) =>
  id.startsWith('event:') || id.startsWith('submission:') || id.startsWith(RECEIPT_KEY_PREFIX);

type RepName = 'pull' | 'records' | 'blobs';
const PUSHES: readonly RepName[] = ['records', 'blobs'];

interface RepState {
  rep: PouchDB.Replication;
  active: boolean;
  upToDate: boolean;
  problem: SyncProblem | undefined;
}

interface SavedState {
  lastSuccessAt: string | null;
  lastContactAt?: string | null;
  /** The local seq up to which the records push has completed batches (its checkpoint). */
  pushedSeq: { records?: number | string };
  /**
   * The local seq up to which every blob named by this appliance's events is central (the blob
   * push's checkpoint). Absent in the state of a box that wrote chunk documents into LevelDB and
   * replicated them (before the BlobPusher): it then starts from 0 once, and `_revs_diff` finds
   * what is central already.
   */
  blobsPushedSeq: number | string;
  /** Documents the central server refused and has not taken since. */
  refused?: RefusedDoc[];
}

const STATE_DOC_ID = '_local/sync-state';

export class HallSync implements SyncStatusSource {
  private readonly reps = new Map<RepName, RepState>();
  private saved: SavedState = { lastSuccessAt: null, pushedSeq: {}, blobsPushedSeq: 0 };
  private savedRev: string | undefined;
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;
  private pending: { docs: number; bytes: number } | null = null;
  private pendingRun: Promise<void> | undefined;
  private pendingDirty = false;
  private pendingTimer: NodeJS.Timeout | undefined;
  private lastPendingAt = 0;
  private lastPendingMs = 0;
  /** Bumped when the pending count is known without counting (both pushes caught up). */
  private pendingEpoch = 0;
  private progress: { done: number; total: number } | undefined;
  /** A problem found before replicating (session, permissions), or the last denied write. */
  private setupProblem: SyncProblem | undefined;
  private lastError: string | null = null;
  private lastWarning: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  private stopped = false;
  private started = false;
  private remote: PouchDB.Database | undefined;
  private refused = new RefusedDocs();
  private heartbeat: Heartbeat | undefined;
  private offering: Promise<void> | undefined;
  private readonly pusher: BlobPusher;
  private readonly log: (level: 'info' | 'warn' | 'error', line: string) => void;
  private readonly backOff: { initialMs: number; maxMs: number };
  private readonly hallDb: string;

  constructor(private readonly options: HallSyncOptions) {
    this.log = options.log ?? (() => undefined);
    this.backOff = options.backOff ?? { initialMs: 1_000, maxMs: 30_000 };
    this.hallDb = hallDbName(options.hallId);
    const chunks = options.batchSize?.blobs;
    this.pusher = new BlobPusher({ ...options, ...(chunks === undefined ? {} : { batch: { chunks } }) }, (seq) => {
      this.saved.blobsPushedSeq = seq;
      this.save();
    });
  }

  /** Starts the sync in the background: it never throws; problems show in status(). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // Three live replications, the chunker's feed and the pending count each listen on the local
    // database while they run (more than Node's default warning limit of 10).
    (this.options.db as unknown as { setMaxListeners?: (n: number) => void }).setMaxListeners?.(50);
    try {
      const doc = (await this.options.db.get(STATE_DOC_ID)) as unknown as SavedState & { _rev: string };
      this.savedRev = doc._rev;
      this.saved = {
        lastSuccessAt: doc.lastSuccessAt ?? null,
        lastContactAt: doc.lastContactAt ?? null,
        pushedSeq: doc.pushedSeq?.records === undefined ? {} : { records: doc.pushedSeq.records },
        blobsPushedSeq: doc.blobsPushedSeq ?? 0,
      };
      this.refused = new RefusedDocs(doc.refused ?? []);
    } catch {
      // First start: nothing saved yet.
    }
    const { receiptPublicKey, applianceId, hallId } = this.options;
    if (receiptPublicKey !== undefined) {
      await ensureReceiptKeyDoc(
        this.options.db,
        receiptKeyDoc(applianceId, hallId, receiptPublicKey, this.options.clock.now()),
      ).catch((err: unknown) => this.log('error', `sync: cannot publish the receipt key: ${String(err)}`));
    }
    // Count what waits before connecting, so the status says it from the start.
    await this.countPending();
    this.lastPendingAt = Date.now();
    await this.pusher
      .start(this.saved.blobsPushedSeq, () => this.requestPending())
      .catch((err: unknown) => this.log('error', `sync: cannot follow the local changes: ${String(err)}`));
    this.log('info', `sync: replicating with ${this.hallDb} on ${this.options.link.server}`);
    void this.connect();
  }

  /** Stops every replication and waits for the chunker and bookkeeping to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pendingTimer);
    for (const r of this.reps.values()) r.rep.cancel();
    this.reps.clear();
    await this.heartbeat?.stop();
    await this.offering;
    await this.pusher.stop();
    await this.pendingRun;
    await this.saving;
  }

  status(): SyncStatus {
    const out: SyncStatus = {
      configured: true,
      state: this.state(),
      lastSuccessAt: this.saved.lastSuccessAt,
      lastContactAt: this.saved.lastContactAt ?? null,
      pending: this.pending === null ? null : this.withBacklog(this.pending),
      lastError: this.lastError,
      refused: this.refused.listed(),
      refusedCount: this.refused.count,
    };
    if (this.progress) out.progress = { ...this.progress };
    return out;
  }

  /** The records counted as pending, plus the chunks of the blobs the blob push has still to send. */
  private withBacklog(counted: { docs: number; bytes: number }): { docs: number; bytes: number } {
    const backlog = this.pusher.backlog();
    return { docs: counted.docs + backlog.docs, bytes: counted.bytes + backlog.bytes };
  }

  private state(): SyncStatus['state'] {
    const reps = [...this.reps.values()];
    const problems = [this.setupProblem, ...reps.map((r) => r.problem)].filter((p): p is SyncProblem => !!p);
    if (problems.some((p) => p.kind === 'error')) return 'error';
    if (problems.length > 0) return 'offline';
    if (this.refused.count > 0) return 'error';
    if (reps.length > 0 && reps.every((r) => r.upToDate && !r.active) && !this.pusher.busy) return 'idle';
    return 'syncing';
  }

  /**
   * Tries the central server now instead of at the next retry: the replications start over from
   * their checkpoints (nothing is sent twice). A no-op before start() and after stop().
   */
  syncNow(): SyncStatus {
    if (!this.started || this.stopped) return this.status();
    this.log('info', 'sync: a proctor asked to sync now');
    clearTimeout(this.retryTimer);
    this.retryDelay = 0;
    const running = [...this.reps.values()];
    this.reps.clear();
    this.progress = undefined;
    for (const r of running) r.rep.cancel();
    void this.connect();
    return this.status();
  }

  /** Something was exchanged with the central server: the link works (saved at most every 10 s). */
  private contact(): void {
    const now = this.options.clock.now();
    const last = this.saved.lastContactAt ? Date.parse(this.saved.lastContactAt) : 0;
    this.saved.lastContactAt = new Date(now).toISOString();
    if (now - last >= 10_000) this.save();
  }

  /** Logs a problem once, not at every retry while it lasts. */
  private warn(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.log('warn', `sync: ${message}`);
  }

  // ---- Connecting ----

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { link } = this.options;
    let session: { roles: string[] };
    try {
      session = await sessionOf(link);
      this.remote ??= openCentralDb(link, this.options.hallId);
      await checkCentralDb(this.remote);
    } catch (err) {
      this.setupProblem = describeSyncError(err, link.server, this.hallDb);
      this.lastError = this.setupProblem.message;
      this.warn(this.setupProblem.message);
      this.retryDelay =
        this.retryDelay === 0 ? this.backOff.initialMs : Math.min(this.backOff.maxMs, this.retryDelay * 2);
      this.retryTimer = setTimeout(() => void this.connect(), this.retryDelay);
      return;
    }
    if (this.stopped) return;
    this.contact();
    this.retryDelay = 0;
    this.startPull();
    this.pushIfAllowed(session.roles, this.remote);
  }

  /**
   * Starts the pushes when the link's user may write for this appliance; otherwise says which
   * role it needs and asks again later (the institution may grant it while the box runs).
   */
  private pushIfAllowed(roles: string[], remote: PouchDB.Database): void {
    const role = applianceRole(this.options.applianceId);
    if (roles.includes('_admin') || roles.includes(role)) {
      this.setupProblem = undefined;
      this.startPushes(remote);
      return;
    }
    this.setupProblem = {
      kind: 'error',
      message:
        `The user this box signs in with on the central server may not write for this appliance: ` +
        `give it the role ${role}, or make the box its own user with ` +
        `\`npm run sync -- add-appliance --hall ${this.options.hallId} --appliance ${this.options.applianceId}\` ` +
        `(results stay on the appliance until then).`,
    };
    this.lastError = this.setupProblem.message;
    this.warn(this.setupProblem.message);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      sessionOf(this.options.link).then(
        (session) => !this.stopped && this.pushIfAllowed(session.roles, remote),
        () => !this.stopped && this.pushIfAllowed([], remote),
      );
    }, this.backOff.maxMs);
  }

  private replicationOptions(): PouchDB.ReplicateOptions {
    const { initialMs, maxMs } = this.backOff;
    return {
      live: true,
      retry: true,
      back_off_function: (delay: number) => (delay === 0 ? initialMs : Math.min(maxMs, delay * 2)),
    };
  }

  private startPull(): void {
    const batch = this.options.batchSize ?? {};
    // PouchDB 9's replicator calls `src.info()` after each batch for its task list and never
    // handles a failure of it: with the central server as the source, a link cut at that moment
    // would be an unhandled rejection, which ends a Node process. The pull therefore reads from
    // its own instance whose info() cannot fail (the changes feed reports the cut instead).
    const source = openCentralDb(this.options.link, this.options.hallId);
    const info = source.info.bind(source);
    source.info = () => info().catch(() => ({ doc_count: 0, update_seq: 0, db_name: this.hallDb }));
    this.watch(
      'pull',
      this.options.db.replicate.from(source, {
        ...this.replicationOptions(),
        batch_size: batch.pull ?? 50,
        batches_limit: 2,
        // Other boxes' blob chunks stay central: a box reads blobs from its own files only, and a
        // hall's chunks (every answer file and upload of every box) would fill a Pi's disk and
        // memory. A function filter runs here on the changes feed's documents (attachment stubs
        // only), so the chunks' bytes are never fetched.
        filter: (doc: PouchDB.Doc) => !doc._id.startsWith('blob:'),
        checkpoint: 'target',
      }),
    );
  }

  private startPushes(remote: PouchDB.Database): void {
    const { db, applianceId } = this.options;
    const batch = this.options.batchSize ?? {};
    const common = { ...this.replicationOptions(), checkpoint: 'source' as const };
    // The filters run here, on the local source, for each changed document.
    const ownRecord = (doc: PouchDB.Doc) => isRecordId(doc._id) && doc.applianceId === applianceId;
    this.watch('records', db.replicate.to(remote, { ...common, batch_size: batch.records ?? 250, filter: ownRecord }));
    // The blob push emits the events of a live replication that watch() listens to.
    const backOff = common.back_off_function!;
    this.watch('blobs', this.pusher.pushTo(remote, backOff) as unknown as PouchDB.Replication);
    if (this.refused.count > 0) this.offering ??= this.offerRefused(remote).finally(() => (this.offering = undefined));
    this.startHeartbeat(remote);
  }

  /** Offers the refused documents again; those the server takes now leave the list. */
  private async offerRefused(remote: PouchDB.Database): Promise<void> {
    // Chunks are offered from their blob files (the box holds only their markers), records by a
    // one-shot replication.
    const ids = this.refused.ids();
    const records = await offerAgain(
      this.options.db,
      remote,
      ids.filter((id) => !id.startsWith('blob:')),
    );
    const chunks = await this.pusher.offer(
      remote,
      ids.filter((id) => id.startsWith('blob:')),
    );
    if (!records || !chunks || this.stopped) return;
    const result = {
      taken: [...records.taken, ...chunks.taken],
      refused: new Map([...records.refused, ...chunks.refused]),
    };
    for (const id of result.taken) {
      this.refused.take(id);
      this.log('info', `sync: the central server took ${id}, refused before`);
    }
    for (const [id, reason] of result.refused)
      this.refused.add(id, reason, new Date(this.options.clock.now()).toISOString());
    if (this.refused.count > 0) this.lastError = this.refused.describe();
    this.save();
    this.afterChange();
  }

  private startHeartbeat(remote: PouchDB.Database): void {
    const identity = this.options.identity;
    if (!identity) return;
    if (this.heartbeat) {
      void this.heartbeat.beat();
      return;
    }
    this.heartbeat = new Heartbeat(
      remote,
      () => {
        const status = this.status();
        return {
          applianceId: this.options.applianceId,
          hallId: this.options.hallId,
          version: identity.version,
          at: new Date(this.options.clock.now()).toISOString(),
          clockTrusted: identity.clockTrusted(),
          state: status.state === 'off' ? 'offline' : status.state,
          lastContactAt: status.lastContactAt,
          lastSuccessAt: status.lastSuccessAt,
          pending: status.pending,
          refused: status.refusedCount,
          startedAt: identity.startedAt,
        };
      },
      this.options.heartbeatIntervalMs ?? 60_000,
      this.log,
    );
    this.heartbeat.start();
  }

  private watch(name: RepName, rep: PouchDB.Replication): void {
    const r: RepState = { rep, active: false, upToDate: false, problem: undefined };
    this.reps.set(name, r);
    const push = name !== 'pull';
    rep.on('active', () => {
      r.active = true;
      r.upToDate = false;
      r.problem = undefined;
      if (push && !this.progress) {
        this.progress = { done: 0, total: this.pending?.docs ?? 0 };
        this.requestPending();
      }
    });
    rep.on('paused', (err?: unknown) => {
      r.active = false;
      if (err) {
        r.problem = describeSyncError(err, this.options.link.server, this.hallDb);
        r.upToDate = false;
        this.lastError = r.problem.message;
        this.warn(r.problem.message);
      } else {
        r.problem = undefined;
        r.upToDate = true;
        this.contact();
      }
      if (push && !PUSHES.some((p) => this.reps.get(p)?.active)) this.progress = undefined;
      if (push && PUSHES.every((p) => this.reps.get(p)?.upToDate)) {
        // Both pushes have caught up with the local changes: nothing is pending right now (a
        // count still running began before and is dropped).
        this.pending = { docs: 0, bytes: 0 };
        this.pendingEpoch++;
      } else if (push) this.requestPending();
      this.afterChange();
    });
    rep.on('change', (info) => {
      this.contact();
      const docs = info.docs ?? [];
      if (name === 'pull') {
        if (docs.length > 0) this.options.onPulled(docs);
        return;
      }
      if (this.progress) {
        this.progress.done += docs.length;
        this.progress.total = Math.max(this.progress.total, this.progress.done);
      }
    });
    rep.on('checkpoint', (info) => {
      if (name !== 'records' || info.checkpoint === undefined) return;
      this.saved.pushedSeq.records = info.checkpoint;
      this.save();
      this.requestPending();
    });
    rep.on('denied', (err) => {
      const e = err as { id?: string; message?: string; reason?: string };
      void this.noteRefusal(e.id, e.reason ?? e.message ?? 'forbidden');
    });
    rep.on('error', (err) => {
      // A replication replaced by syncNow() is none of this sync's business any more.
      if (this.reps.get(name) !== r) return;
      // With retry on, PouchDB gives up only on what retrying cannot fix; start over later.
      r.problem = describeSyncError(err, this.options.link.server, this.hallDb);
      this.lastError = r.problem.message;
      this.log('warn', `sync: ${name} stopped: ${r.problem.message}`);
      if (this.stopped) return;
      for (const other of this.reps.values()) other.rep.cancel();
      this.retryTimer = setTimeout(() => {
        this.reps.clear();
        void this.connect();
      }, this.backOff.maxMs);
    });
  }

  /**
   * A write the central server refused. Unless the server holds that very revision already: a
   * batch whose answer a cut link lost may be stored after the retry's _revs_diff asked, and the
   * retry's copy is then refused as an edit ("exists already"); that document is central.
   */
  private async noteRefusal(id: string | undefined, reason: string): Promise<void> {
    if (id !== undefined && this.remote && (await heldCentrally(this.options.db, this.remote, id))) return;
    if (id !== undefined && this.refused.add(id, reason, new Date(this.options.clock.now()).toISOString())) this.save();
    this.lastError = id === undefined ? `The central server refused a document: ${reason}.` : this.refused.describe();
    this.log('warn', `sync: the central server refused ${id ?? 'a document'}: ${reason}`);
  }

  /** After any replication settles: a full success is remembered. */
  private afterChange(): void {
    if (this.state() !== 'idle') return;
    if (this.lastError !== null) this.log('info', 'sync: everything exchanged with the central server again');
    this.lastError = null;
    this.lastWarning = undefined;
    this.saved.lastSuccessAt = new Date(this.options.clock.now()).toISOString();
    this.save();
  }

  // ---- Bookkeeping ----

  /** Writes `_local/sync-state` (never replicated); writes are serialised and coalesced. */
  private save(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      try {
        const doc = {
          _id: STATE_DOC_ID,
          ...this.saved,
          refused: this.refused.toJSON(),
          ...(this.savedRev ? { _rev: this.savedRev } : {}),
        };
        this.savedRev = (await this.options.db.put(doc as unknown as PouchDB.Doc)).rev;
      } catch (err) {
        if (!this.stopped) this.log('warn', `sync: saving its state failed: ${String(err)}`);
      }
    });
  }

  /** Asks for the pending documents to be counted again, at most once per interval. */
  private requestPending(): void {
    if (this.stopped) return;
    this.pendingDirty = true;
    if (this.pendingRun || this.pendingTimer) return;
    // At most once per interval, and never more than a sixth of the time (a Pi with a day of
    // unpushed results spends a while counting them).
    const interval = Math.max(this.options.pendingIntervalMs ?? 2_000, Math.min(10_000, 5 * this.lastPendingMs));
    const wait = Math.max(0, this.lastPendingAt + interval - Date.now());
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      const began = Date.now();
      this.pendingRun = this.countPending().finally(() => {
        this.pendingRun = undefined;
        this.lastPendingAt = Date.now();
        this.lastPendingMs = this.lastPendingAt - began;
        if (this.pendingDirty) this.requestPending();
      });
    }, wait);
  }

  /**
   * Counts this appliance's records changed since the records push's checkpoint (an upper bound: a
   * document the central server already has, e.g. after a restored backup, counts until the push
   * has looked at it), by their JSON size; the blob push's backlog is added in status().
   */
  private async countPending(): Promise<void> {
    this.pendingDirty = false;
    const epoch = this.pendingEpoch;
    const { db, applianceId } = this.options;
    let docs = 0;
    let bytes = 0;
    const kinds: { since: number | string; match: (id: string) => boolean }[] = [
      { since: this.saved.pushedSeq.records ?? 0, match: isRecordId },
    ];
    try {
      for (const kind of kinds) {
        let since = kind.since;
        for (;;) {
          if (this.stopped) return;
          const page = await db.changes({ since, limit: 1_000, include_docs: true, return_docs: true });
          for (const c of page.results) {
            const doc = c.doc;
            if (!doc || c.deleted || !kind.match(c.id) || doc.applianceId !== applianceId) continue;
            docs++;
            bytes += JSON.stringify(doc).length;
          }
          if (page.results.length < 1_000) break;
          since = page.last_seq;
        }
      }
      if (epoch !== this.pendingEpoch) return;
      this.pending = { docs, bytes };
      if (this.progress) this.progress.total = Math.max(this.progress.total, this.progress.done + docs);
    } catch (err) {
      if (!this.stopped) this.log('warn', `sync: counting pending documents failed: ${String(err)}`);
    }
  }
}

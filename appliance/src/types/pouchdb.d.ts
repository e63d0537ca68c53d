/**
 * The part of PouchDB's API this project uses. @types/pouchdb is not used: it declares a global
 * `Buffer` interface that breaks Node's own typings.
 */
declare namespace PouchDB {
  interface Doc {
    _id: string;
    _rev?: string;
    [key: string]: unknown;
  }
  interface PutResult {
    ok: boolean;
    id: string;
    rev: string;
  }
  interface ErrorResult {
    error: true | string;
    id?: string;
    name?: string;
    message?: string;
    status?: number;
  }
  interface AllDocsOptions {
    startkey?: string;
    endkey?: string;
    /** Whether the row whose id is `endkey` is included (default true). */
    inclusive_end?: boolean;
    keys?: string[];
    include_docs?: boolean;
    /** With include_docs: attachment bodies (base64, or Buffers with `binary`) instead of stubs. */
    attachments?: boolean;
    binary?: boolean;
    /** With include_docs: each document's `_conflicts` (its other leaf revisions). */
    conflicts?: boolean;
    limit?: number;
    skip?: number;
    descending?: boolean;
  }
  interface AllDocsRow {
    id: string;
    key: string;
    value: { rev: string; deleted?: boolean };
    doc?: Doc | null;
    error?: string;
  }
  interface AllDocsResponse {
    total_rows: number;
    offset: number;
    rows: AllDocsRow[];
  }
  interface Info {
    doc_count: number;
    update_seq: number | string;
    db_name: string;
  }
  interface ChangesOptions {
    since?: number | string | 'now';
    live?: boolean;
    include_docs?: boolean;
    limit?: number;
    /** Keep the results in memory for the promise (default true; false for live feeds). */
    return_docs?: boolean;
    /** Runs on the source, on each changed document. */
    filter?: (doc: Doc) => boolean;
  }
  interface Change {
    id: string;
    seq: number | string;
    doc?: Doc;
    deleted?: boolean;
  }
  interface ChangesResponse {
    results: Change[];
    last_seq: number | string;
  }
  interface ChangesEmitter extends PromiseLike<ChangesResponse> {
    on(event: 'change', cb: (change: Change) => void): this;
    on(event: 'error', cb: (err: unknown) => void): this;
    cancel(): void;
  }
  interface ReplicateOptions {
    live?: boolean;
    retry?: boolean;
    batch_size?: number;
    batches_limit?: number;
    /** Runs on the source, on each changed document (never a Mango selector: see docs/sync.md). */
    filter?: (doc: Doc) => boolean;
    /** The next wait in ms after a failure, given the last one (0 at first). */
    back_off_function?: (delay: number) => number;
    /** Where checkpoints are written and read: both sides (default), one side only, or none. */
    checkpoint?: false | 'source' | 'target';
  }
  interface ReplicationInfo {
    docs_read: number;
    docs_written: number;
    doc_write_failures: number;
    last_seq?: number | string;
    /** On 'change': the documents written in this batch. */
    docs?: Doc[];
  }
  interface Replication extends PromiseLike<ReplicationInfo> {
    on(event: 'change', cb: (info: ReplicationInfo) => void): this;
    on(event: 'paused', cb: (err?: unknown) => void): this;
    on(event: 'active', cb: () => void): this;
    on(event: 'denied', cb: (err: unknown) => void): this;
    on(event: 'error', cb: (err: unknown) => void): this;
    on(event: 'complete', cb: (info: ReplicationInfo) => void): this;
    /** `checkpoint` is set once a batch is done and its checkpoint written (the source's seq). */
    on(event: 'checkpoint', cb: (info: { checkpoint?: number | string }) => void): this;
    cancel(): void;
  }
  interface Database {
    put(doc: Doc): Promise<PutResult>;
    /** The database's name (for an HTTP database, its URL). */
    readonly name: string;
    /** Every leaf revision (`'all'`) or the named ones; a revision that is not there comes back as `missing`. */
    get(
      id: string,
      options: { open_revs: 'all' | string[]; attachments?: boolean; binary?: boolean },
    ): Promise<Array<{ ok?: Doc; missing?: string }>>;
    get(
      id: string,
      options?: { rev?: string; conflicts?: boolean; attachments?: boolean; binary?: boolean },
    ): Promise<Doc>;
    bulkDocs(docs: Doc[], options?: { new_edits?: boolean }): Promise<Array<PutResult | ErrorResult>>;
    allDocs(options?: AllDocsOptions): Promise<AllDocsResponse>;
    info(): Promise<Info>;
    changes(options: ChangesOptions): ChangesEmitter;
    close(): Promise<void>;
    destroy(): Promise<void>;
    revsDiff(diff: Record<string, string[]>): Promise<Record<string, { missing: string[] }>>;
    /** A stable id of this database (the replicator's checkpoints are keyed by it). */
    id(): Promise<string>;
    replicate: {
      to(target: Database, options?: ReplicateOptions): Replication;
      from(source: Database, options?: ReplicateOptions): Replication;
    };
  }
  interface DatabaseOptions {
    adapter?: string;
    auto_compaction?: boolean;
    /** HTTP databases: credentials, sent as basic auth. */
    auth?: { username: string; password: string };
    /** HTTP databases: do not try to create the database. */
    skip_setup?: boolean;
    /** Prepended to local database names (defaults()). */
    prefix?: string;
  }
  interface Static {
    new (name: string, options?: DatabaseOptions): Database;
    plugin(plugin: unknown): Static;
    defaults(options: DatabaseOptions): Static;
  }
}

declare module 'pouchdb' {
  const PouchDB: PouchDB.Static;
  export default PouchDB;
}

declare module 'pouchdb-adapter-memory' {
  const plugin: unknown;
  export default plugin;
}

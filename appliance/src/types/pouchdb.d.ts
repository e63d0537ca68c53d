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
  }
  interface ChangesEmitter {
    on(event: 'change', cb: (change: { id: string; seq: number | string; doc?: Doc; deleted?: boolean }) => void): this;
    on(event: 'error', cb: (err: unknown) => void): this;
    cancel(): void;
  }
  interface Database {
    put(doc: Doc): Promise<PutResult>;
    get(id: string, options?: { conflicts?: boolean }): Promise<Doc>;
    bulkDocs(docs: Doc[], options?: { new_edits?: boolean }): Promise<Array<PutResult | ErrorResult>>;
    allDocs(options?: AllDocsOptions): Promise<AllDocsResponse>;
    info(): Promise<Info>;
    changes(options: ChangesOptions): ChangesEmitter;
    close(): Promise<void>;
    destroy(): Promise<void>;
  }
  interface Static {
    new (name: string, options?: { adapter?: string; auto_compaction?: boolean }): Database;
    plugin(plugin: unknown): Static;
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

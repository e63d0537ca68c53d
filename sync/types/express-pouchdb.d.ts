/** The part of express-pouchdb (a CouchDB-protocol server, tests only) that sync's tests use. */
declare module 'express-pouchdb' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface ExpressPouchDbOptions {
    /** 'minimumForPouchDB' or 'fullCouchDB' (the default). */
    mode?: string;
    overrideMode?: { include?: string[]; exclude?: string[] };
    inMemoryConfig?: boolean;
    logPath?: string;
    configPath?: string;
  }
  interface ExpressPouchDbApp {
    (req: IncomingMessage, res: ServerResponse): void;
    dbWrapper: {
      registerWrapper(wrapper: (name: string, db: PouchDB.Database, next: () => void) => void): void;
    };
  }
  function expressPouchDb(pouchDb: PouchDB.Static, options?: ExpressPouchDbOptions): ExpressPouchDbApp;
  export default expressPouchDb;
}

/**
 * PouchDB's HTTP adapter takes a `fetch` of its own (the portal's adds the user's session cookie).
 * Merged into the project's narrow PouchDB typings (appliance/src/types/pouchdb.d.ts).
 */
declare namespace PouchDB {
  interface DatabaseOptions {
    /** HTTP databases: the fetch every request goes through. */
    fetch?: (url: string | URL | Request, init?: RequestInit) => Promise<Response>;
  }
}

/**
 * Takes RxDB's advertisement for its paid storages out of the production build. The free Dexie
 * storage prints "RxDB Open Core RxStorage ... premium plugins" with console.warn on its first
 * write, i.e. on every examinee's console when the exam opens; the exam hall does not show
 * advertisements (docs/client.md, "RxDB's console notice").
 *
 * Exactly one statement of one module is removed, at build time: the `console.warn([...].join('\n'))`
 * in rxdb/dist/esm/plugins/storage-dexie/rx-storage-instance-dexie.js. Nothing else changes
 * (no premium flag is faked, no console is patched at run time). When the text is not found,
 * the build fails and says why, so an RxDB upgrade that moves or rewords the notice is noticed
 * and this plugin looked at again rather than silently doing nothing.
 */
import type { Plugin } from 'vite';

/** The module that prints the notice (ESM build; the CJS build is never bundled here). */
export const RXDB_NOTICE_MODULE =
  /[\\/]node_modules[\\/]rxdb[\\/]dist[\\/]esm[\\/]plugins[\\/]storage-dexie[\\/]rx-storage-instance-dexie\.js$/;
/** How the statement begins and ends in RxDB 17.6 (checked by client/build/no-rxdb-notice.test.ts). */
export const NOTICE_START = "console.warn(['-------------- RxDB Open Core RxStorage";
export const NOTICE_END = "].join('\\n'));";

/** The module's code without the notice; throws when the statement is not there exactly once. */
export function withoutRxdbNotice(code: string, id: string): string {
  const start = code.indexOf(NOTICE_START);
  const again = start < 0 ? -1 : code.indexOf(NOTICE_START, start + 1);
  const end = start < 0 ? -1 : code.indexOf(NOTICE_END, start);
  if (start < 0 || again >= 0 || end < 0) {
    throw new Error(
      `exam-hall:no-rxdb-notice: RxDB's "Open Core RxStorage" console.warn was not found exactly once in ${id}. ` +
        'RxDB was probably upgraded: look at how it prints the notice now and update client/build/no-rxdb-notice.ts ' +
        '(docs/client.md, "RxDB\'s console notice").',
    );
  }
  // Same line count, so positions in the rest of the module do not move.
  return `${code.slice(0, start)}/* RxDB's premium notice removed at build (client/build/no-rxdb-notice.ts) */${code.slice(end + NOTICE_END.length)}`;
}

export function noRxdbNotice(): Plugin {
  let seen = false;
  return {
    name: 'exam-hall:no-rxdb-notice',
    apply: 'build',
    transform(code, id) {
      if (!RXDB_NOTICE_MODULE.test(id)) return null;
      seen = true;
      return { code: withoutRxdbNotice(code, id), map: null };
    },
    buildEnd(error) {
      // The examinee app stores its answers with RxDB's Dexie storage: a build without that
      // module means RxDB moved it (or the app stopped using it); either way, look again.
      if (error === undefined && !seen) {
        this.error(
          "exam-hall:no-rxdb-notice: RxDB's Dexie storage module (rx-storage-instance-dexie.js) was not in the build. " +
            'Check client/build/no-rxdb-notice.ts against the RxDB in use.',
        );
      }
    },
  };
}

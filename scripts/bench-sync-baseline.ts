/**
 * The baseline of `npm run bench:sync -- --large`, in a process of its own: plain PouchDB
 * replication (`db.replicate.to(remote)`, default options, no filter) of a LevelDB database to a
 * central database, as a box would push if it held every document (chunk documents with their
 * attachments included) and did nothing else. Prints one JSON line { replicateMs, docsWritten,
 * maxRssMB }.
 *
 * Arguments: <LevelDB folder> <central URL> <database name>; credentials in BENCH_SYNC_USER and
 * BENCH_SYNC_PASSWORD.
 */
import { performance } from 'node:perf_hooks';
import PouchDB from 'pouchdb';

async function main(): Promise<void> {
  const [dir, url, dbName] = process.argv.slice(2);
  if (!dir || !url || !dbName) throw new Error('usage: bench-sync-baseline <LevelDB folder> <url> <database>');
  const db = new PouchDB(dir, { auto_compaction: true });
  await db.info();
  const remote = new PouchDB(`${url.replace(/\/+$/, '')}/${dbName}`, {
    skip_setup: true,
    auth: { username: process.env.BENCH_SYNC_USER ?? '', password: process.env.BENCH_SYNC_PASSWORD ?? '' },
  });
  const started = performance.now();
  const result = await db.replicate.to(remote);
  const replicateMs = performance.now() - started;
  await db.close();
  process.stdout.write(
    `${JSON.stringify({
      replicateMs: Math.round(replicateMs),
      docsWritten: result.docs_written,
      docWriteFailures: result.doc_write_failures,
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

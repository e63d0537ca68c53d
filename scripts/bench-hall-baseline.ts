/**
 * The baseline server of `npm run bench:hall`: the physical limit of this machine for the
 * submission storm. Plain node:http, no framework: each POST body is streamed to its own file in
 * the folder given as the first argument, the file is fsynced and closed, and only then the
 * request is answered `201 {"ok":true,"size":n}`. No parsing, no hashing, no journal.
 *
 * Prints `READY port=<n>` when listening on 127.0.0.1 (an ephemeral port); stops on SIGTERM.
 */
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: bench-hall-baseline.ts <folder>\n');
  process.exit(2);
}

let next = 0;
const server = createServer((req, res) => {
  const file = path.join(dir, `upload-${next++}`);
  void (async () => {
    const handle = await open(file, 'w');
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        await handle.write(chunk);
        size += chunk.length;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    const body = JSON.stringify({ ok: true, size });
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })().catch((err: unknown) => {
    res.writeHead(500).end(String(err));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`READY port=${address.port}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

/**
 * The storage check behind READY=1 and every watchdog ping: write a fresh token to a probe file
 * in the data folder, fsync it, read it back and compare. It catches a full disk, a card that
 * went read-only (SD cards do, when worn out) and an fsync that hangs (the check never resolves,
 * so no watchdog ping goes out).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';

export const PROBE_FILE = '.storage-probe';

export type StorageCheck = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * @param probeName the probe file's name in `dataDir`; another process than the appliance (the
 *   doctor, maybe as root) passes its own name, so it never takes over the appliance's probe file.
 */
export async function checkStorage(dataDir: string, probeName = PROBE_FILE): Promise<StorageCheck> {
  const file = path.join(dataDir, probeName);
  const token = randomBytes(16).toString('hex');
  const started = performance.now();
  try {
    const handle = await open(file, 'w', 0o600);
    try {
      await handle.writeFile(token);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const back = await readFile(file, 'utf8');
    if (back !== token) return { ok: false, reason: `${file}: read back something else than was written` };
    return { ok: true, ms: performance.now() - started };
  } catch (err) {
    return { ok: false, reason: `${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
}

/**
 * Writes `<file>.gz` beside every text file of the build, so the appliance sends compressed
 * bytes without compressing on the fly (a Pi serving the synchronised start of 1,000 examinees
 * should not gzip the same bundle 1,000 times). The appliance's static handler picks the `.gz`
 * when the browser accepts gzip.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(?:js|css|html|svg|json|webmanifest)$/;
/** Below this a compressed copy saves less than a network packet. */
const MIN_BYTES = 1_024;

export function precompress(): Plugin {
  return {
    name: 'exam-hall:precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const outDir = options.dir;
      if (outDir === undefined) return;
      for (const item of Object.values(bundle)) {
        if (!COMPRESSIBLE.test(item.fileName)) continue;
        const bytes = Buffer.from(item.type === 'chunk' ? item.code : item.source);
        if (bytes.length < MIN_BYTES) continue;
        const gz = gzipSync(bytes, { level: 9 });
        if (gz.length < bytes.length) await writeFile(path.join(outDir, `${item.fileName}.gz`), gz);
      }
    },
  };
}

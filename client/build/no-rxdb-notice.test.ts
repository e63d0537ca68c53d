import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RXDB_NOTICE_MODULE, withoutRxdbNotice } from './no-rxdb-notice.js';

/** The module of the RxDB in use, as the build reads it. */
const rxdbRoot = path.dirname(createRequire(import.meta.url).resolve('rxdb/package.json'));
const MODULE = path.join(rxdbRoot, 'dist', 'esm', 'plugins', 'storage-dexie', 'rx-storage-instance-dexie.js');

describe('the build without RxDB’s premium notice', () => {
  it('removes exactly the console.warn of the notice from the installed RxDB, and nothing else', () => {
    expect(MODULE).toMatch(RXDB_NOTICE_MODULE);
    const code = readFileSync(MODULE, 'utf8');
    expect(code).toContain('RxDB Open Core RxStorage');
    const out = withoutRxdbNotice(code, MODULE);
    expect(out).not.toContain('RxDB Open Core RxStorage');
    expect(out).not.toContain('premium plugins');
    expect(out).not.toMatch(/console\.warn/);
    // The rest of the module is what it was: same lines, the flag still set, the storage intact.
    expect(out.split('\n')).toHaveLength(code.split('\n').length);
    expect(out).toContain('shownNonPremiumLog = true;');
    expect(out).toContain('async bulkWrite(documentWrites, context)');
    const removed = code.length - out.length;
    expect(removed).toBeGreaterThan(500);
    expect(removed).toBeLessThan(1_200);
  });

  it('fails loudly when the notice is not there (an RxDB upgrade changed it)', () => {
    const code = readFileSync(MODULE, 'utf8');
    expect(() => withoutRxdbNotice(code.replace('RxDB Open Core RxStorage', 'RxDB Core'), MODULE)).toThrow(
      /was not found exactly once in .*rx-storage-instance-dexie\.js.*RxDB was probably upgraded/,
    );
    expect(() => withoutRxdbNotice(`${code}\n${code}`, MODULE)).toThrow(/not found exactly once/);
    expect(() => withoutRxdbNotice("console.warn(['-------------- RxDB Open Core RxStorage', 'x']);", MODULE)).toThrow(
      /not found exactly once/,
    );
  });
});

/** Every route the appliance's app has (method, path template), read from the app itself. */
import { FakeClock } from '../../domain/clock.js';
import { openTestAppliance, removeDir } from '../support/appliance.js';

export async function appRoutes(): Promise<Array<[string, string]>> {
  const appliance = await openTestAppliance(new FakeClock(Date.parse('2026-06-01T09:00:00Z')));
  try {
    const seen = new Set<string>();
    const out: Array<[string, string]> = [];
    for (const r of appliance.app.routes) {
      if (r.method === 'ALL' || r.path.endsWith('*')) continue;
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push([r.method, r.path]);
    }
    return out;
  } finally {
    await appliance.close();
    await removeDir(appliance.dataDir);
  }
}

/** Before the portal's browser tests: build portal/dist when it is missing or older than its sources. */
import { buildPortal, portalBuildState } from '../../scripts/portal-build.js';

export default async function setup(): Promise<void> {
  const state = portalBuildState();
  if (state.state === 'fresh') return;
  process.stdout.write(
    `Portal browser tests: building the page (${state.state === 'missing' ? 'missing' : state.newer})...\n`,
  );
  await buildPortal({ quiet: true });
}

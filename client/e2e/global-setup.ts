/**
 * Before the browser tests: they test the built client, so build it (vite build) when
 * client/dist is missing or older than its sources. `npm run build` before `npm test` (as CI
 * does) makes this a no-op.
 */
import { buildClient, clientBuildState } from '../../scripts/client-build.js';

export default async function setup(): Promise<void> {
  const state = clientBuildState();
  if (state.state === 'fresh') return;
  const why = state.state === 'missing' ? state.reason : `${state.newer} is newer than the build`;
  process.stdout.write(`Browser tests: building the client (${why})...\n`);
  const started = Date.now();
  await buildClient({ quiet: true });
  process.stdout.write(`Browser tests: client built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

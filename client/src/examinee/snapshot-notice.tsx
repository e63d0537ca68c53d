/**
 * What the examinee sees of the proctoring snapshots: which sources are photographed and how
 * often, the exam's consent text, each source's state in words (with a coloured dot), the button
 * that starts screen sharing (browsers allow it only from a click), and, when the exam requires
 * the camera and the device cannot use it, the step that holds the questions back until it can.
 */
import { t } from '../i18n';
import type { SnapshotView } from './use-snapshots';

const S = t.snapshots;

export function SnapshotNotice(props: { view: SnapshotView }) {
  const { view } = props;
  const config = view.config;
  if (!config || config.sources.length === 0) return null;
  const refused = config.sources.some(
    (s) => view[s] === 'denied' || view[s] === 'unavailable' || view[s] === 'stopped',
  );
  return (
    <aside class="snapshot-notice" aria-labelledby="snapshot-heading" data-testid="snapshot-notice">
      <h3 id="snapshot-heading" class="small-heading">
        {S.heading}
      </h3>
      <p>{S.what(config.sources, config.intervalSeconds)}</p>
      <p class="muted small-text">{config.consentText ?? S.defaultConsent}</p>
      <div role="status">
        <ul class="snapshot-states">
          {config.sources.map((source) => (
            <li key={source} class={`snapshot-state state-${view[source]}`} data-testid={`snapshot-${source}`}>
              <span class="dot" aria-hidden="true" />
              {S.sourceState(source, S.state[view[source]] ?? view[source])}
            </li>
          ))}
        </ul>
      </div>
      {view.lastAt !== undefined && (
        <p class="muted small-text">{S.lastAt(new Date(view.lastAt).toLocaleTimeString())}</p>
      )}
      <div class="button-row">
        {config.sources.includes('screen') && view.screen !== 'on' && view.screen !== 'starting' && (
          <button type="button" onClick={view.startScreen}>
            {S.shareScreen}
          </button>
        )}
        {config.sources.includes('camera') && (view.camera === 'denied' || view.camera === 'stopped') && (
          <button type="button" class="secondary" onClick={view.retryCamera}>
            {S.allowCamera}
          </button>
        )}
      </div>
      {refused && <p class="small-text">{S.refusedNote}</p>}
    </aside>
  );
}

/** The exam requires the camera and the device cannot use it: the questions wait for it. */
export function needsCameraStep(view: SnapshotView): boolean {
  const c = view.config;
  return (
    c !== undefined &&
    c.cameraRequired &&
    c.sources.includes('camera') &&
    (view.camera === 'denied' || view.camera === 'unavailable' || view.camera === 'stopped')
  );
}

export function CameraStep(props: { view: SnapshotView }) {
  return (
    <div class="card stack" role="alert" data-testid="camera-step">
      <h3>{S.cameraRequiredHeading}</h3>
      <p>{S.cameraRequired}</p>
      <button type="button" class="primary" onClick={props.view.retryCamera}>
        {S.allowCamera}
      </button>
    </div>
  );
}

/** In the lobby, before the start: what will be photographed, and what the exam says of it. */
export function SnapshotConsent(props: { config: SnapshotView['config'] }) {
  const c = props.config;
  if (!c || c.sources.length === 0) return null;
  return (
    <div class="notice" data-testid="snapshot-consent">
      <p>
        <strong>{S.heading}</strong>
      </p>
      <p>{S.what(c.sources, c.intervalSeconds)}</p>
      <p class="small-text">{c.consentText ?? S.defaultConsent}</p>
    </div>
  );
}

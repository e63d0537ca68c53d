/**
 * The exam session's proctoring snapshots (snapshots.ts): one Snapshotter for the session,
 * following the appliance's word on what to take and whether the exam still runs.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Snapshotter, type ProctoringConfig, type SnapshotStatus } from './snapshots';

export interface SnapshotView extends SnapshotStatus {
  config: ProctoringConfig | undefined;
  startScreen: () => void;
  retryCamera: () => void;
}

export function useSnapshots(options: {
  token: string;
  config: ProctoringConfig | undefined;
  /** The exam runs on this device (not sealed, submitted or moved). */
  running: boolean;
}): SnapshotView {
  const { token, config, running } = options;
  const [status, setStatus] = useState<SnapshotStatus>({ camera: 'off', screen: 'off', lastAt: undefined, taken: 0 });
  const snapper = useRef<Snapshotter | undefined>(undefined);
  useEffect(() => {
    const s = new Snapshotter(token, setStatus);
    snapper.current = s;
    return () => s.stop();
  }, [token]);
  // The config's parts, so that a timeline repeating the same config changes nothing.
  const key = config === undefined ? '' : `${config.sources.join('+')}|${config.intervalSeconds}`;
  const latest = useRef(config);
  latest.current = config;
  useEffect(() => {
    snapper.current?.configure(latest.current, running);
  }, [key, running, token]);
  return {
    ...status,
    config,
    startScreen: () => void snapper.current?.startScreen(),
    retryCamera: () => void snapper.current?.retryCamera(),
  };
}

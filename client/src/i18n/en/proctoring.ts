/**
 * Proctoring snapshots' strings, in English: what the examinee is told and asked (`snapshots` of
 * the catalogue, ../en.ts), and what the proctor dashboard shows (`proctoring`, under `proctor`).
 */
import type { ProctoringType, SnapshotProblem, SnapshotSource } from '../../../../domain/exam-options.js';

const TYPES = {
  none: 'None',
  camera: 'Camera snapshots',
  screen: 'Screen snapshots',
  'camera-and-screen': 'Camera and screen snapshots',
} satisfies Record<ProctoringType, string>;

const SOURCES = { camera: 'camera', screen: 'screen' } satisfies Record<SnapshotSource, string>;

const PROBLEMS = {
  denied: 'refused',
  unavailable: 'not available',
  stopped: 'stopped',
} satisfies Record<SnapshotProblem, string>;

const every = (seconds: number) =>
  seconds % 60 === 0 ? `every ${seconds === 60 ? 'minute' : `${seconds / 60} minutes`}` : `every ${seconds} seconds`;

/** The examinee's side. */
export const snapshots = {
  heading: 'Proctoring snapshots',
  what: (sources: SnapshotSource[], seconds: number) =>
    `This exam takes a small picture of your ${sources.map((s) => SOURCES[s]).join(' and your ')} ${every(seconds)} while you write. The proctors see them, and they are kept with your answers.`,
  defaultConsent: 'Only the proctors of this exam and your institution see these pictures.',
  state: {
    off: 'not started',
    starting: 'starting…',
    on: 'on',
    denied: 'refused',
    unavailable: 'not available on this device',
    stopped: 'stopped',
  } as Record<string, string>,
  sourceState: (source: SnapshotSource, state: string) => `${source === 'camera' ? 'Camera' : 'Screen'}: ${state}`,
  lastAt: (time: string) => `Last picture at ${time}.`,
  shareScreen: 'Share my screen',
  allowCamera: 'Use my camera',
  refusedNote: 'The proctors have been told. You may go on writing.',
  cameraRequiredHeading: 'This exam needs your camera',
  cameraRequired:
    'Allow the camera for this page (the camera symbol in the address bar), then press the button. Your answers are kept meanwhile.',
  insecure: 'Snapshots need the appliance’s secure (https://) address; the proctors have been told.',
};

/** The proctor dashboard's side. */
export const proctoring = {
  types: TYPES,
  sources: SOURCES,
  problems: PROBLEMS,
  heading: 'Proctoring',
  typeLabel: 'Proctoring type',
  examTypeLabel: 'Proctoring type for examinees without their own',
  intervalLabel: 'Seconds between snapshots',
  intervalHint: (min: number, max: number) => `From ${min} to ${max} seconds.`,
  cost: (estimate: string, taken: number, takenSize: string) =>
    `Snapshots of this roster for the whole exam: about ${estimate}. Taken so far: ${taken} (${takenSize}).`,
  diskFree: (free: string) => `${free} free on the appliance’s data disk.`,
  diskShort: (free: string) =>
    `The appliance’s data disk has only ${free} free: it cannot hold these snapshots. Lower the type or take them less often.`,
  consent: 'What examinees are told',
  cameraRequired: 'A device without the camera cannot write this exam.',
  cameraOptional: 'A device that refuses the camera is reported here and goes on.',
  now: (type: string, count: number) => `${type}; ${count === 1 ? '1 snapshot' : `${count} snapshots`} so far.`,
  problem: (source: SnapshotSource, problem: SnapshotProblem) => `${SOURCES[source]} ${PROBLEMS[problem]}`,
  apply: 'Change proctoring',
  snapshotAlt: (source: SnapshotSource, time: string) =>
    `${source === 'camera' ? 'Camera' : 'Screen'} snapshot at ${time}`,
  stripTimes: (n: number, from: string, to: string) =>
    n === 1 ? `1 snapshot at ${from}` : `${n} snapshots, ${from} to ${to}`,
  cell: (type: string, count: number) => (count === 0 ? type : `${type} (${count})`),
  eventKinds: {
    'personal-proctoring-set': 'Proctoring type changed',
    'snapshot-taken': 'Snapshot',
    'snapshot-refused': 'No snapshots from the device',
    'proctoring-set': 'Proctoring changed for everyone',
  } as Record<string, string>,
};

/** Bytes as a person reads them: 812 kB, 3.4 MB, 1.2 GB. */
export function bytesText(bytes: number): string {
  if (bytes < 1_000_000) return `${Math.max(0, Math.round(bytes / 1_000))} kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(1)} GB`;
}

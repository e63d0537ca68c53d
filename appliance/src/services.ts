/**
 * Everything the HTTP layer needs, built from the store: the examinee's exam day, the monitor,
 * presence, proctor accounts, sessions, actions and preferences. main.ts and the tests build the
 * appliance the same way through here.
 */
import type { AnswerFileChecker } from './answer-files/checker.js';
import { ExamDay } from './exam-day.js';
import { Monitor } from './monitor.js';
import { Presence } from './presence.js';
import { ProctorActions } from './proctor-actions.js';
import { ProctorAccounts } from './proctors/accounts.js';
import { ColumnPreferences } from './proctors/preferences.js';
import { ProctorSessions } from './proctors/sessions.js';
import { ForegroundLoad } from './foreground-load.js';
import { cpuQuotaCores } from './cpu-quota.js';
import { idlePriorityPbkdf2Sha256, ResumeCodes, type WorkerPriority } from './resume-codes.js';
import type { HallStore } from './store/hall-store.js';
import { DiskSpace } from './disk-space.js';
import { ClockService } from './time/clock-service.js';
import { ClockTrust } from './time/clock-trust.js';
import { notConfiguredSync, type SyncStatusSource } from '../../sync/sync-status.js';
import { CONFIG_SCHEMA } from './config.js';
import { ProctorDevices } from './proctors/devices.js';
import { SignInGuard } from './sign-in-guard.js';

/** The window of every sign-in limit. */
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
import { StreamCaps } from './http/stream-caps.js';
import type { UploadPace } from './upload-pace.js';

export interface ServiceOptions {
  signInAttempts: number;
  /** The other sign-in limits (config.ts); their config defaults when absent. */
  signInAddressFailures?: number;
  loginAttempts?: number;
  loginAddressFailures?: number;
  signInDelayCapMs?: number;
  signInTrackedKeys?: number;
  /** How sign-in delays are waited out (tests record them); a timer when absent. */
  signInSleep?: (ms: number) => Promise<void>;
  maxFileBytes: number;
  presenceTimeoutSeconds: number;
  /** Proctor session lifetimes (PROCTOR_SESSION_IDLE_MINUTES, PROCTOR_SESSION_MAX_HOURS); 120 min and 14 h when absent. */
  proctorSessionIdleMinutes?: number;
  proctorSessionMaxHours?: number;
  /** Whether the clock may open exams (main.ts passes the store's clock); always trusted when absent. */
  clockTrust?: ClockTrust;
  /** Where answer files are checked (main.ts: worker threads); on the calling thread when absent. */
  answerFileChecker?: AnswerFileChecker;
  /** Event streams open at once per session and per address (PROCTOR_STREAMS_PER_*); the config defaults when absent. */
  streamsPerSession?: number;
  streamsPerAddress?: number;
  /** The slowest a request body may arrive (PROCTOR_UPLOAD_*); the config defaults when absent. */
  uploadMinBytesPerSecond?: number;
  uploadRateWindowSeconds?: number;
  /** Hears the CPU priority the resume-code preparation worker got (main.ts warns unless SCHED_IDLE). */
  onBackgroundPriority?: (priority: WorkerPriority) => void;
}

export interface Services {
  store: HallStore;
  examDay: ExamDay;
  monitor: Monitor;
  presence: Presence;
  accounts: ProctorAccounts;
  sessions: ProctorSessions;
  actions: ProctorActions;
  preferences: ColumnPreferences;
  resumeCodes: ResumeCodes;
  clockTrust: ClockTrust;
  /** A chief proctor's confirmation or setting of the clock, recorded in every exam's log. */
  clockService: ClockService;
  /** The sync with the central server: `sync.status()` is what `GET /api/sync/status` shows. */
  sync: SyncStatusSource;
  /** The requests in flight (counted by the app); background work waits for quiet. */
  foreground: ForegroundLoad;
  /** Limits on proctor passwords (sign-in-guard.ts); the examinee's are inside examDay. */
  loginGuard: SignInGuard;
  /** The device cookie that makes a proctor's own device known to the login guard. */
  proctorDevices: ProctorDevices;
  /** The event streams open, per session and per address, and their caps. */
  streams: StreamCaps;
  /** The slowest a request body may arrive before it is cut (408 upload-too-slow). */
  uploadPace: UploadPace;
}

type NumberSetting =
  | 'signInAddressFailures'
  | 'loginAttempts'
  | 'loginAddressFailures'
  | 'signInDelayCapMs'
  | 'signInTrackedKeys'
  | 'streamsPerSession'
  | 'streamsPerAddress'
  | 'uploadMinBytesPerSecond'
  | 'uploadRateWindowSeconds';
/** A numeric setting as given, else its default from the one config schema. */
const setting = (options: ServiceOptions, key: NumberSetting): number =>
  options[key] ?? Number(CONFIG_SCHEMA[key].default);

export function createServices(
  store: HallStore,
  options: ServiceOptions,
  sync: SyncStatusSource = notConfiguredSync,
): Services {
  const clockTrust = options.clockTrust ?? ClockTrust.alwaysTrusted(store.clock);
  const foreground = new ForegroundLoad();
  // Indexing into PouchDB waits out storms too (the journal is the record meanwhile).
  store.setIndexGate(() => foreground.isQuiet());
  const presence = new Presence(store, options.presenceTimeoutSeconds * 1_000);
  const guard = (perAccountAddress: number, perAddress: number) =>
    new SignInGuard(
      store.clock,
      {
        perAccountAddress,
        perAddress,
        delayCapMs: setting(options, 'signInDelayCapMs'),
        windowMs: SIGN_IN_WINDOW_MS,
        maxKeys: setting(options, 'signInTrackedKeys'),
      },
      options.signInSleep,
    );
  presence.trackSignedIn();
  const examDay = new ExamDay(store, {
    signInAttempts: options.signInAttempts,
    signInGuard: guard(options.signInAttempts, setting(options, 'signInAddressFailures')),
    maxFileBytes: options.maxFileBytes,
    clockTrusted: () => clockTrust.trusted,
    answerFileChecker: options.answerFileChecker,
    presenceAtDeadline: (examId, studentId, deadline) => presence.atDeadline(examId, studentId, deadline),
  });
  const disk = new DiskSpace(store.dataDir);
  const monitor = new Monitor(store, () => disk.latest());
  const sessions = new ProctorSessions(store.clock, {
    idleMs: (options.proctorSessionIdleMinutes ?? 120) * 60_000,
    maxMs: (options.proctorSessionMaxHours ?? 14) * 60 * 60_000,
  });
  return {
    store,
    examDay,
    monitor,
    presence,
    accounts: new ProctorAccounts(store.dataDir),
    sessions,
    actions: new ProctorActions(store, monitor, examDay.packages),
    preferences: new ColumnPreferences(store.dataDir),
    // Triples prepared ahead use only idle CPU, and none while requests pile up: a 1,000-examinee
    // hall's 8,000 PBKDF2 runs must not slow its sign-in, autosave or submission storm
    // (docs/performance.md).
    resumeCodes: new ResumeCodes(store, {
      backgroundPbkdf2: idlePriorityPbkdf2Sha256({
        onPriority: options.onBackgroundPriority,
        whenQuiet: () => foreground.whenQuiet(),
        cpuQuota: cpuQuotaCores(),
        isIdle: () => foreground.isIdle(),
      }),
    }),
    clockTrust,
    clockService: new ClockService(clockTrust, store, (deltaMs) => sessions.shift(deltaMs)),
    sync,
    foreground,
    loginGuard: guard(setting(options, 'loginAttempts'), setting(options, 'loginAddressFailures')),
    proctorDevices: new ProctorDevices(Buffer.from(store.secrets.value.sessionKey, 'base64'), store.clock),
    streams: new StreamCaps({
      perSession: setting(options, 'streamsPerSession'),
      perAddress: setting(options, 'streamsPerAddress'),
    }),
    uploadPace: {
      minBytesPerSecond: setting(options, 'uploadMinBytesPerSecond'),
      windowMs: setting(options, 'uploadRateWindowSeconds') * 1_000,
    },
  };
}

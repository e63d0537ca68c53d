/**
 * The appliance's configuration: one schema, each key with its type, default, description and
 * `PROCTOR_<KEY>` environment variable. Parsed strictly at start; a bad value stops the process
 * with a message naming the variable. Nothing else reads process.env.
 */
import path from 'node:path';
import { z } from 'zod';
import { parseNetwork } from '../../domain/networks.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** A comma-separated setting as its items, trimmed, lower-cased, empty ones dropped. */
const commaList = () =>
  z.string().transform((v) =>
    v
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n !== ''),
  );

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting: environment variable, schema, default (as the variable's text), description. */
export const CONFIG_SCHEMA = {
  host: {
    env: 'PROCTOR_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    description: 'Address to listen on (0.0.0.0 or :: for the hall network).',
  },
  port: {
    env: 'PROCTOR_PORT',
    schema: int(0, 65_535),
    default: '8080',
    description: 'TCP port of the appliance (0 picks a free one).',
  },
  dataDir: {
    env: 'PROCTOR_DATA_DIR',
    schema: z.string().min(1),
    default: 'data',
    description: 'Folder for the database, journal, answer files and secrets (under systemd: $STATE_DIRECTORY).',
  },
  allowVolatileData: {
    env: 'PROCTOR_ALLOW_VOLATILE_DATA',
    schema: bool,
    default: 'false',
    description:
      'Development and tests only: start even when the data folder is in memory (tmpfs, ramfs, overlayfs, zram), ' +
      'where a power cut loses the exam day. Off, the appliance refuses such a folder and the doctor fails.',
  },
  hallId: {
    env: 'PROCTOR_HALL_ID',
    schema: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -'),
    default: 'demo-hall',
    description: 'The hall this box serves; its central database is hall-<hallId>.',
  },
  applianceName: {
    env: 'PROCTOR_APPLIANCE_NAME',
    schema: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    default: 'exam-hall',
    description: 'Host name the box is known by in the hall (<name>.local).',
  },
  demo: {
    env: 'PROCTOR_DEMO',
    schema: bool,
    default: 'true',
    description: 'Import the demo exam and roster once, on the first start with an empty data folder.',
  },
  demoStartMinutes: {
    env: 'PROCTOR_DEMO_START_MINUTES',
    schema: int(1, 24 * 60),
    default: '5',
    description: 'Minutes after the first start at which the demo exam begins.',
  },
  maxFileBytes: {
    env: 'PROCTOR_MAX_FILE_BYTES',
    schema: int(1_024, 200 * 1024 * 1024),
    default: String(25 * 1024 * 1024),
    description: 'Largest single upload (answer file or file answer) the appliance accepts at all.',
  },
  presenceTimeoutSeconds: {
    env: 'PROCTOR_PRESENCE_TIMEOUT_SECONDS',
    schema: int(5, 600),
    default: '30',
    description: 'Seconds without an open event stream or request after which an examinee shows as disconnected.',
  },
  proctorSessionIdleMinutes: {
    env: 'PROCTOR_SESSION_IDLE_MINUTES',
    schema: int(5, 24 * 60),
    default: '120',
    description: 'Minutes without a request after which a proctor session ends (sign in again).',
  },
  proctorSessionMaxHours: {
    env: 'PROCTOR_SESSION_MAX_HOURS',
    schema: int(1, 72),
    default: '14',
    description: 'Hours after sign-in at which a proctor session ends however busy it is (a long exam day).',
  },
  signInAttempts: {
    env: 'PROCTOR_SIGN_IN_ATTEMPTS',
    schema: int(1, 1_000),
    default: '10',
    description:
      'Wrong access codes per student id from one network address in 15 minutes (a burst, then one per ' +
      '15 min / this); then that address gets 429 for that id. Its own bound device is not held to it.',
  },
  signInAddressFailures: {
    env: 'PROCTOR_SIGN_IN_ADDRESS_FAILURES',
    schema: int(1, 100_000),
    default: '300',
    description:
      'Wrong access codes per network address in 15 minutes, whatever the student ids (then 429 for new ' +
      'devices there): failures, not sign-ins, so a hall of 1,000 behind one NAT address has room for typos.',
  },
  loginAttempts: {
    env: 'PROCTOR_LOGIN_ATTEMPTS',
    schema: int(1, 1_000),
    default: '5',
    description:
      'Wrong passwords per proctor username from one network address in 15 minutes; then 429 there. A device the proctor signed in with before (its device cookie) is not held to it.',
  },
  loginAddressFailures: {
    env: 'PROCTOR_LOGIN_ADDRESS_FAILURES',
    schema: int(1, 100_000),
    default: '100',
    description: 'Wrong proctor passwords per network address in 15 minutes, whatever the usernames (then 429 there).',
  },
  signInDelayCapMs: {
    env: 'PROCTOR_SIGN_IN_DELAY_CAP_MS',
    schema: int(0, 60_000),
    default: '3000',
    description:
      "Longest delay before checking a proctor's password or an examinee's access code from a new device, " +
      "after that account's wrong attempts from anywhere (from the 4th: 250 ms, doubling). The account itself is never locked.",
  },
  signInTrackedKeys: {
    env: 'PROCTOR_SIGN_IN_TRACKED_KEYS',
    schema: int(100, 1_000_000),
    default: '20000',
    description:
      'Sign-in counters kept per kind (addresses, id and address pairs, ids, devices), about 100 bytes each; ' +
      'beyond it the drained and then least recently used go.',
  },
  streamsPerSession: {
    env: 'PROCTOR_STREAMS_PER_SESSION',
    schema: int(1, 100),
    default: '4',
    description:
      "Event streams one examinee token or proctor session may hold open; one more closes that session's oldest " +
      '(a reloaded tab never locks anyone out).',
  },
  streamsPerAddress: {
    env: 'PROCTOR_STREAMS_PER_ADDRESS',
    schema: int(1, 100_000),
    default: '1500',
    description:
      'Event streams one network address may hold open; more get 429 too-many-streams. Large: a whole hall may ' +
      'reach the box through one NAT address.',
  },
  connectionsPerAddress: {
    env: 'PROCTOR_CONNECTIONS_PER_ADDRESS',
    schema: int(1, 100_000),
    default: '4000',
    description:
      'TCP connections one network address may hold open at once; more are closed at once (a hall behind one NAT ' +
      'address needs a few per device).',
  },
  headersTimeoutSeconds: {
    env: 'PROCTOR_HEADERS_TIMEOUT_SECONDS',
    schema: int(1, 120),
    default: '10',
    description: "Seconds a connection may take to send a request's headers (and a TLS handshake) before it is closed.",
  },
  uploadMinBytesPerSecond: {
    env: 'PROCTOR_UPLOAD_MIN_RATE',
    schema: int(1, 10 * 1024 * 1024),
    default: '1024',
    description:
      'Bytes a second a request body must at least bring, over PROCTOR_UPLOAD_RATE_WINDOW seconds of the ' +
      'appliance waiting for it; slower is cut with 408 upload-too-slow and changes nothing.',
  },
  uploadRateWindowSeconds: {
    env: 'PROCTOR_UPLOAD_RATE_WINDOW',
    schema: int(1, 600),
    default: '20',
    description: 'Seconds over which PROCTOR_UPLOAD_MIN_RATE is measured (a shorter Wi-Fi stall is forgiven).',
  },
  mdns: {
    env: 'PROCTOR_MDNS',
    schema: bool,
    default: 'true',
    description:
      'Advertise the appliance in the hall over mDNS (<name>.local, _proctor._tcp and _http._tcp/_https._tcp); ' +
      'not while it listens on loopback only.',
  },
  mdnsInterface: {
    env: 'PROCTOR_MDNS_INTERFACE',
    schema: z.union([z.literal('all'), z.ipv4()]),
    default: 'all',
    description:
      'IPv4 address of the one interface to advertise on, or all (needs a default route: name the interface on a network without one).',
  },
  syncUrl: {
    env: 'PROCTOR_SYNC_URL',
    schema: z.union([z.literal(''), z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL, or empty' })]),
    default: '',
    description:
      "Base URL of the institution's CouchDB (e.g. https://couch.example.edu:6984); empty: no sync. " +
      'Credentials may be in the URL or in PROCTOR_SYNC_USER / PROCTOR_SYNC_PASSWORD.',
  },
  syncUser: {
    env: 'PROCTOR_SYNC_USER',
    schema: z.string(),
    default: '',
    description: "The hall's user on the central server (overrides a user in PROCTOR_SYNC_URL).",
  },
  syncPassword: {
    env: 'PROCTOR_SYNC_PASSWORD',
    schema: z.string(),
    default: '',
    description: "That user's password (never logged).",
  },
  httpsMode: {
    env: 'PROCTOR_HTTPS_MODE',
    schema: z.enum(['off', 'local-ca', 'provided']),
    default: 'off',
    description:
      'HTTPS: off (plain HTTP; fine on 127.0.0.1, but a page at a LAN address cannot reload offline), ' +
      'local-ca (the box makes its own CA and certificate; what the box is provisioned with) or provided ' +
      '(PROCTOR_TLS_CERT and PROCTOR_TLS_KEY).',
  },
  httpPort: {
    env: 'PROCTOR_HTTP_PORT',
    schema: int(0, 65_535),
    default: '8081',
    description:
      'With HTTPS on: TCP port of the plain-HTTP onboarding page (CA download, install steps) that sends ' +
      'everything else to HTTPS (80 on the box; 0 picks a free one). Unused when PROCTOR_HTTPS_MODE=off.',
  },
  hstsMaxAgeSeconds: {
    env: 'PROCTOR_HSTS_MAX_AGE_SECONDS',
    schema: int(0, 2 * 365 * 24 * 3600),
    default: '86400',
    description:
      'With HTTPS on: how long browsers keep to HTTPS for the box (Strict-Transport-Security max-age). ' +
      'A day covers an exam day without keeping a device away from a replaced box for long; raise it ' +
      'with a provided certificate for a real domain; 0 tells browsers to forget it.',
  },
  tlsCert: {
    env: 'PROCTOR_TLS_CERT',
    schema: z.string(),
    default: '',
    description: 'PROCTOR_HTTPS_MODE=provided: the certificate file (PEM, with its chain).',
  },
  tlsKey: {
    env: 'PROCTOR_TLS_KEY',
    schema: z.string(),
    default: '',
    description: 'PROCTOR_HTTPS_MODE=provided: the private key file (PEM).',
  },
  tlsExtraNames: {
    env: 'PROCTOR_TLS_EXTRA_NAMES',
    schema: commaList().pipe(
      z.array(z.union([z.ipv4(), z.ipv6(), z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/)])),
    ),
    default: '',
    description:
      'PROCTOR_HTTPS_MODE=local-ca: more DNS names or IP addresses for the certificate, comma-separated ' +
      '(e.g. a name the hall DNS gives the box). Names must be set before the CA is first made.',
  },
  tlsCaNetworks: {
    env: 'PROCTOR_TLS_CA_NETWORKS',
    schema: commaList().superRefine((ranges, ctx) => {
      for (const r of ranges) {
        const parsed = parseNetwork(r);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
      }
    }),
    default: '',
    description:
      'PROCTOR_HTTPS_MODE=local-ca: the hall subnets the box’s CA may vouch for, comma-separated CIDR ranges ' +
      '(e.g. 10.20.0.0/24), instead of the subnet of each of the box’s addresses (at most a /24 or IPv6 /64). ' +
      'The box’s own addresses are always included. Used when the CA is made.',
  },
  clockTrustMode: {
    env: 'PROCTOR_CLOCK_TRUST',
    schema: z.enum(['auto', 'trusted', 'untrusted']),
    default: 'auto',
    description:
      'Whether exams may open on the system clock: auto (when NTP is synchronised; on a machine without ' +
      'systemd, e.g. a laptop, the clock counts as trusted), trusted (always) or untrusted (only once a chief ' +
      'proctor has confirmed or set the time).',
  },
  logLevel: {
    env: 'PROCTOR_LOG_LEVEL',
    schema: z.enum(['debug', 'info', 'warn', 'error']),
    default: 'info',
    description: 'Least severe log level printed.',
  },
} as const;

type Schema = typeof CONFIG_SCHEMA;
export type Config = { [K in keyof Schema]: z.output<Schema[K]['schema']> };

/** A configuration problem, naming the variable. */
export class ConfigError extends Error {}

/**
 * Reads the configuration from an environment (process.env in main.ts, a plain object in tests).
 * @param cwd relative data folders are taken from here
 */
export function loadConfig(env: Record<string, string | undefined>, cwd: string): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
    const raw = env[spec.env] ?? spec.default;
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
    else
      problems.push(
        `${spec.env}=${JSON.stringify(key === 'syncUrl' ? maskUrl(raw) : raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')} (${spec.description})`,
      );
  }
  // Under systemd (StateDirectory=proctor-appliance) the data folder defaults to $STATE_DIRECTORY
  // (its first entry: systemd separates several with ':').
  const stateDirectory = env.STATE_DIRECTORY?.split(':')[0];
  if (env.PROCTOR_DATA_DIR === undefined && stateDirectory) out.dataDir = stateDirectory;
  const known = new Set<string>(Object.values(CONFIG_SCHEMA).map((s) => s.env));
  for (const name of Object.keys(env)) {
    if (name.startsWith('PROCTOR_') && !known.has(name))
      problems.push(`${name}: unknown setting (known: ${[...known].join(', ')})`);
  }
  if (problems.length > 0) throw new ConfigError(`Bad configuration:\n  ${problems.join('\n  ')}`);
  const config = out as Config;
  if (config.httpsMode === 'provided' && (config.tlsCert === '' || config.tlsKey === ''))
    throw new ConfigError(
      'Bad configuration:\n  PROCTOR_HTTPS_MODE=provided needs PROCTOR_TLS_CERT and PROCTOR_TLS_KEY (certificate and key files)',
    );
  const resolve = (p: string) => (p === '' ? p : path.resolve(cwd, p));
  return {
    ...config,
    dataDir: path.resolve(cwd, config.dataDir),
    tlsCert: resolve(config.tlsCert),
    tlsKey: resolve(config.tlsKey),
  };
}

/** The configuration as a log line, secrets masked; keep this the only printer. */
export function describeConfig(config: Config): string {
  return Object.entries(config)
    .map(([k, v]) => {
      if (k === 'syncPassword') return `${k}=${v === '' ? '' : '***'}`;
      if (k === 'syncUrl') return `${k}=${v === '' ? '' : maskUrl(String(v))}`;
      return `${k}=${String(v)}`;
    })
    .join(' ');
}

/** A URL with its password (if any) masked. */
function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

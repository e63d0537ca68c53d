/**
 * The portal's configuration: one schema, each key with its `PORTAL_<KEY>` environment variable,
 * default and description. Parsed strictly at start; a bad value stops the process with a message
 * naming the variable. Nothing else in portal/ reads process.env.
 */
import { z } from 'zod';

const HALL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const PORTAL_CONFIG_SCHEMA = {
  couchUrl: {
    env: 'PORTAL_COUCH_URL',
    schema: z
      .string()
      .min(1, 'is required: the institution CouchDB, e.g. https://couch.example.edu:6984')
      .refine((v) => {
        if (v === '') return true; // said once, by min()
        try {
          const u = new URL(v);
          return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
        } catch {
          return false;
        }
      }, 'must be an http:// or https:// URL without credentials (users sign in on the page)'),
    default: '',
    description: 'The institution CouchDB the portal reads and writes as the signed-in user.',
  },
  host: {
    env: 'PORTAL_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    description: 'Address to listen on.',
  },
  port: {
    env: 'PORTAL_PORT',
    schema: int(0, 65_535),
    default: '8090',
    description: 'TCP port (0 picks a free one).',
  },
  halls: {
    env: 'PORTAL_HALLS',
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      )
      .pipe(z.array(z.string().regex(HALL_ID, 'hall ids: lower-case letters, digits and -'))),
    default: '',
    description:
      'Hall ids to show, comma-separated. Empty: an admin sees every hall-* database (_all_dbs), ' +
      'anyone else the halls their roles name (hall:<id>).',
  },
  origin: {
    env: 'PORTAL_ORIGIN',
    schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ }).transform((v) => new URL(v).origin)]),
    default: '',
    description:
      'The origin people open the portal at, when a proxy in front of it changes it (e.g. https://portal.example.edu); ' +
      'writes must come from it. Empty: the request’s own origin. With https, the session cookie is Secure.',
  },
  sessionIdleMinutes: {
    env: 'PORTAL_SESSION_IDLE_MINUTES',
    schema: int(1, 24 * 60),
    default: '60',
    description: 'Minutes without a request after which a portal session ends.',
  },
  maxUploadBytes: {
    env: 'PORTAL_MAX_UPLOAD_BYTES',
    schema: int(1_024, 64 * 1024 * 1024),
    default: String(8 * 1024 * 1024),
    description: 'Largest publish request (exam file and roster together, as JSON).',
  },
  staleSeconds: {
    env: 'PORTAL_STALE_SECONDS',
    schema: int(10, 24 * 3600),
    default: '180',
    description: 'A box with no heartbeat for this long shows amber.',
  },
  offlineSeconds: {
    env: 'PORTAL_OFFLINE_SECONDS',
    schema: int(10, 7 * 24 * 3600),
    default: '600',
    description: 'A box with no heartbeat for this long shows red.',
  },
} as const;

type Schema = typeof PORTAL_CONFIG_SCHEMA;
export type PortalConfig = { [K in keyof Schema]: z.output<Schema[K]['schema']> };

export type ConfigResult = { ok: true; config: PortalConfig } | { ok: false; errors: string[] };

/** Reads the configuration from the environment given. */
export function loadPortalConfig(env: Record<string, string | undefined>): ConfigResult {
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(PORTAL_CONFIG_SCHEMA)) {
    const raw = env[spec.env] ?? spec.default;
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
    else errors.push(`${spec.env}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const config = out as PortalConfig;
  if (config.staleSeconds >= config.offlineSeconds)
    return { ok: false, errors: ['PORTAL_STALE_SECONDS must be less than PORTAL_OFFLINE_SECONDS'] };
  return { ok: true, config };
}

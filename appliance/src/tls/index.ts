/**
 * HTTPS for the appliance (docs/https-and-time.md): which certificate the server uses in each
 * PROCTOR_HTTPS_MODE, keeping the local CA's server certificate current while the box runs, and
 * `certificateStatus()` for scripts (`npm run appliance -- certificate`, the box's doctor check).
 */
import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import path from 'node:path';
import { isIP } from 'node:net';
import { boxNames, caScope, sameNames, type BoxNames } from './box-names.js';
import { x509 } from './x509.js';
import { ensureLocalCa, RENEW_WITHIN_DAYS, TLS_FILES, type CaCertificate, fingerprintOf } from './local-ca.js';

export { boxNames, caScope, type BoxNames, type CaScope } from './box-names.js';
export { fingerprintOf, RENEW_WITHIN_DAYS, TLS_FILES, type CaCertificate } from './local-ca.js';

export type HttpsMode = 'off' | 'local-ca' | 'provided';

/** The settings HTTPS needs (a subset of Config, so scripts can pass just these). */
export interface TlsSettings {
  httpsMode: HttpsMode;
  dataDir: string;
  applianceName: string;
  tlsCert: string;
  tlsKey: string;
  tlsExtraNames: readonly string[];
  /** Address ranges the hall CA may vouch for instead of the box's interface subnets (empty: those). */
  tlsCaNetworks: readonly string[];
}

/** What the box's names and the CA's scope are computed from (os.hostname(), os.networkInterfaces()). */
export interface BoxNetwork {
  hostname: string;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

const systemNetwork = (): BoxNetwork => ({ hostname: hostname(), interfaces: networkInterfaces() });

/** What the HTTPS server is given. */
export interface TlsMaterial {
  mode: 'local-ca' | 'provided';
  certPem: string;
  keyPem: string;
  notAfter: Date;
  /** The local CA (local-ca mode only): offered on the onboarding page. */
  ca: CaCertificate | undefined;
  /** The names and addresses the certificate carries: the only hosts the HTTP side redirects to. */
  names: BoxNames;
}

/** Where the local CA keeps its files. */
export const tlsDir = (dataDir: string) => path.join(dataDir, 'tls');

/** The certificate and key files a mode serves with. */
export function certificatePaths(settings: TlsSettings): { cert: string; key: string; ca: string | undefined } {
  if (settings.httpsMode === 'provided') return { cert: settings.tlsCert, key: settings.tlsKey, ca: undefined };
  const dir = tlsDir(settings.dataDir);
  return {
    cert: path.join(dir, TLS_FILES.serverCert),
    key: path.join(dir, TLS_FILES.serverKey),
    ca: path.join(dir, TLS_FILES.caCert),
  };
}

/** The box's names and addresses now, for its server certificate. */
export function currentBoxNames(settings: TlsSettings, network: BoxNetwork = systemNetwork()): BoxNames {
  return boxNames({
    applianceName: settings.applianceName,
    hostname: network.hostname,
    interfaces: network.interfaces,
    extraNames: settings.tlsExtraNames,
  });
}

/** The DNS names and IP addresses in a certificate's subject alternative names. */
export function certificateNames(cert: x509.X509Certificate): BoxNames {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const items = san ? san.names.items : [];
  return {
    dns: items.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()),
    ips: items.filter((n) => n.type === 'ip' && isIP(n.value) !== 0).map((n) => n.value.toLowerCase()),
  };
}

/** Loads the certificate of `provided` mode; throws with a clear message when it cannot. */
async function loadProvided(settings: TlsSettings): Promise<TlsMaterial> {
  const read = async (what: string, file: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`PROCTOR_HTTPS_MODE=provided: cannot read the ${what} ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const certPem = await read('certificate (PROCTOR_TLS_CERT)', settings.tlsCert);
  const keyPem = await read('key (PROCTOR_TLS_KEY)', settings.tlsKey);
  const cert = new x509.X509Certificate(certPem);
  return { mode: 'provided', certPem, keyPem, notAfter: cert.notAfter, ca: undefined, names: certificateNames(cert) };
}

/** The part of the appliance's clock (time/clock-trust.ts) the keeper follows. */
export interface KeeperClock {
  readonly trusted: boolean;
  onChange(listener: () => void): () => void;
}

/**
 * Keeps the server's certificate current: in local-ca mode it checks at start, once a day, when
 * the box's addresses change (looked at every 30 s) and whenever the clock's trust changes
 * (`followClock`: a certificate issued on an untrusted clock is issued again once it is
 * trusted), and hands a renewed certificate to `onRenewed` (the server swaps it in without a
 * restart). In provided mode it loads the files once.
 */
export class CertificateKeeper {
  private names: BoxNames | undefined;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<TlsMaterial> | undefined;
  material: TlsMaterial | undefined;

  constructor(
    private readonly settings: TlsSettings & { httpsMode: 'local-ca' | 'provided' },
    private readonly deps: {
      now: () => number;
      log: (level: 'info' | 'warn', line: string) => void;
      /** Whether `now` is trusted (default: always). */
      trusted?: () => boolean;
      /** The host name and interfaces (default: the system's). */
      network?: () => BoxNetwork;
    },
  ) {}

  private network(): BoxNetwork {
    return (this.deps.network ?? systemNetwork)();
  }

  /** Loads (and in local-ca mode creates or renews) the certificate. */
  async check(): Promise<TlsMaterial> {
    if (this.running) return this.running;
    this.running = this.load().finally(() => (this.running = undefined));
    return this.running;
  }

  private async load(): Promise<TlsMaterial> {
    if (this.settings.httpsMode === 'provided') {
      this.material = await loadProvided(this.settings);
      return this.material;
    }
    const network = this.network();
    const names = currentBoxNames(this.settings, network);
    this.names = names;
    const local = await ensureLocalCa({
      dir: tlsDir(this.settings.dataDir),
      applianceName: this.settings.applianceName,
      names,
      scope: caScope({ names, interfaces: network.interfaces, configuredNetworks: this.settings.tlsCaNetworks }),
      now: this.deps.now(),
      clockTrusted: (this.deps.trusted ?? (() => true))(),
      log: (level, line) => this.deps.log(level, `tls: ${line}`),
    });
    this.material = {
      mode: 'local-ca',
      certPem: local.server.certPem,
      keyPem: local.server.keyPem,
      notAfter: local.server.notAfter,
      ca: local.ca,
      names: local.server.names,
    };
    return this.material;
  }

  /** Starts the daily and address-change checks (local-ca mode); `onRenewed` gets new material. */
  watch(onRenewed: (material: TlsMaterial) => void): void {
    if (this.settings.httpsMode !== 'local-ca') return;
    const recheck = (why: string) => {
      const before = this.material?.certPem;
      this.check().then(
        (m) => {
          if (m.certPem !== before) onRenewed(m);
        },
        (err: unknown) => this.deps.log('warn', `tls: checking the certificate (${why}) failed: ${String(err)}`),
      );
    };
    this.recheck = recheck;
    const daily = setInterval(() => recheck('daily'), 86_400_000);
    const addresses = setInterval(() => {
      const now = currentBoxNames(this.settings, this.network());
      if (this.names && !sameNames(now, this.names)) recheck('the addresses changed');
    }, 30_000);
    daily.unref();
    addresses.unref();
    this.timers.push(daily, addresses);
  }

  /** Checks again now (e.g. the clock just became trusted). */
  recheck: (why: string) => void = () => undefined;

  /**
   * Checks again whenever the clock's trust or offset changes (after `watch`): a certificate
   * issued on an untrusted clock may be expired or not yet valid by the right time, and is issued
   * again once the clock is trusted.
   */
  followClock(clock: KeeperClock): void {
    let wasTrusted = clock.trusted;
    this.unfollow.push(
      clock.onChange(() => {
        const why = !wasTrusted && clock.trusted ? 'the clock is now trusted' : 'the clock changed';
        wasTrusted = clock.trusted;
        this.recheck(why);
      }),
    );
  }

  private unfollow: (() => void)[] = [];

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const u of this.unfollow.splice(0)) u();
  }
}

export interface CertificateStatus {
  mode: HttpsMode;
  /** When the server certificate expires (ISO), null when there is none. */
  notAfter: string | null;
  /** Whole days left (negative when expired), null when there is none. */
  daysLeft: number | null;
  /** The DNS names and IP addresses the certificate carries. */
  names: string[];
  /** Whether it should be renewed (local-ca renews by itself at start and daily). */
  renewDue: boolean;
  certPath: string | null;
  keyPath: string | null;
  caPath: string | null;
  /** SHA-256 fingerprint of the local CA (local-ca mode), as the onboarding page shows it. */
  caFingerprint: string | null;
  /** Why there is no status, e.g. the certificate has not been made yet. */
  problem: string | null;
}

/**
 * The state of the box's certificate, read from disk (the appliance need not be running). For
 * the doctor check: warn when `daysLeft` < 30 in provided mode, or when `problem` is set.
 */
export async function certificateStatus(settings: TlsSettings, now = Date.now()): Promise<CertificateStatus> {
  const empty: CertificateStatus = {
    mode: settings.httpsMode,
    notAfter: null,
    daysLeft: null,
    names: [],
    renewDue: false,
    certPath: null,
    keyPath: null,
    caPath: null,
    caFingerprint: null,
    problem: null,
  };
  if (settings.httpsMode === 'off') return empty;
  const paths = certificatePaths(settings);
  const status = { ...empty, certPath: paths.cert, keyPath: paths.key, caPath: paths.ca ?? null };
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(await readFile(paths.cert, 'utf8'));
  } catch (err) {
    return { ...status, problem: `no readable certificate at ${paths.cert}: ${(err as Error).message}` };
  }
  if (paths.ca !== undefined) {
    try {
      const ca = new x509.X509Certificate(await readFile(paths.ca, 'utf8'));
      status.caFingerprint = fingerprintOf(new Uint8Array(ca.rawData));
    } catch (err) {
      status.problem = `no readable CA certificate at ${paths.ca}: ${(err as Error).message}`;
    }
  }
  const names = certificateNames(cert);
  const daysLeft = Math.floor((cert.notAfter.getTime() - now) / 86_400_000);
  return {
    ...status,
    notAfter: cert.notAfter.toISOString(),
    daysLeft,
    names: [...names.dns, ...names.ips],
    renewDue: daysLeft < RENEW_WITHIN_DAYS,
  };
}

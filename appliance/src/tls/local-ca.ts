/**
 * The box's own certificate authority (PROCTOR_HTTPS_MODE=local-ca).
 *
 * Files, in `<dataDir>/tls/` (folder 0700, every file 0600, each written to a temp file and
 * renamed into place):
 *   ca.key       the CA's ECDSA P-256 private key, PKCS#8 PEM — never leaves the box
 *   ca.crt       the CA certificate, PEM — what devices install (served on the onboarding page)
 *   server.key   the server's ECDSA P-256 private key, PKCS#8 PEM
 *   server.crt   the server certificate, PEM, issued by the CA
 *   server.json  {schemaVersion, names, notAfter, certSha256, keySha256, clockTrusted}: what the
 *                certificate names and whether the clock was trusted when it was issued, written
 *                last, so a crash between the renames is noticed and mended
 *
 * The CA: self-signed, 2 years, basicConstraints CA:true pathLen 0 (critical), keyUsage
 * keyCertSign + cRLSign (critical), subject key identifier, and nameConstraints (critical) that
 * permit only this box (box-names.ts `caScope`): its own DNS names (`<name>.local`, the host name,
 * `localhost`, PROCTOR_TLS_EXTRA_NAMES) and the names below them, its own addresses, and the
 * hall's subnets (PROCTOR_TLS_CA_NETWORKS, else each interface's subnet, at most a /24 or /64) —
 * so an installed CA cannot vouch for the school's intranet, the router or anyone's bank even if
 * the box and its key are stolen. A CA that permits more than that (one made before this rule:
 * every `.local`/`.internal` name and private range, 10 years) is replaced at start, as is one
 * that was made on a clock far from the trusted one; devices must then install the new one.
 *
 * The server certificate: 397 days (the most browsers accept, and never past the CA's end),
 * subject alternative names for every name and address of the box that the CA may vouch for, EKU
 * serverAuth, keyUsage digitalSignature, CA:false, authority and subject key identifiers. It is
 * issued again when fewer than 30 days are left, when the box's names or addresses change, when
 * it is not yet valid (the clock was set back), when it was issued on an untrusted clock and the
 * clock is now trusted, or when its files do not match.
 *
 * Library: @peculiar/x509 over Node's WebCrypto (Node can make keys but not certificates); no
 * openssl command is needed on the box.
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  id_ce_nameConstraints,
  NameConstraints,
} from '@peculiar/asn1-x509';
import type { BoxNames, CaScope } from './box-names.js';
import { x509 } from './x509.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** Two years: a stolen box's CA stops being trusted by then, and a hall installs it again. */
export const CA_VALIDITY_DAYS = 730;
export const SERVER_VALIDITY_DAYS = 397;
/** Issue the server certificate again when fewer days than this are left. */
export const RENEW_WITHIN_DAYS = 30;
/** Warn this long before the CA ends (then every device must install a new one). */
export const CA_WARN_WITHIN_DAYS = 60;
/**
 * A box without a real-time clock may boot in 1970 or at its last shutdown. Certificates are
 * never dated before this (the release year), so one issued on a clock far behind is still valid
 * once the clock is right; the check at the next trusted clock renews it anyway.
 */
export const EARLIEST_PLAUSIBLE_TIME = Date.UTC(2026, 0, 1);

/**
 * DNS suffixes an older CA permitted whole (every name under them); a CA permitting one of these
 * vouches for more than this box and is replaced.
 */
export const WIDE_DOMAINS = ['local', 'localhost.localdomain', 'home.arpa', 'internal', 'lan', 'arpa'] as const;

export const TLS_FILES = {
  caKey: 'ca.key',
  caCert: 'ca.crt',
  serverKey: 'server.key',
  serverCert: 'server.crt',
  serverMeta: 'server.json',
} as const;

export interface CaCertificate {
  pem: string;
  der: Uint8Array;
  /** SHA-256 of the DER, upper-case hex pairs joined by ':' (as the systems show it). */
  fingerprint: string;
  notAfter: Date;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  notAfter: Date;
  /** The names and addresses the certificate carries. */
  names: BoxNames;
}

export interface LocalCa {
  ca: CaCertificate;
  server: ServerCertificate;
  /** Why the server certificate was issued now, or undefined when the one on disk was kept. */
  issued: string | undefined;
  /** Names and addresses of the box the CA may not vouch for (left out of the certificate). */
  skipped: string[];
}

interface ServerMeta {
  /** 2 added clockTrusted; a version 1 file counts as issued on a trusted clock. */
  schemaVersion: 1 | 2;
  names: BoxNames;
  notAfter: string;
  certSha256: string;
  keySha256: string;
  clockTrusted?: boolean;
}

export type TlsLog = (level: 'info' | 'warn', line: string) => void;

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** SHA-256 fingerprint of a DER certificate in the usual AA:BB:... form. */
export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
}

/** A positive 128-bit serial number as hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function writePrivate(file: string, content: string): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const pemOfKey = async (key: webcrypto.CryptoKey) =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

const importKey = (pem: string) =>
  webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), ALG, true, ['sign']);

function nameConstraintsExtension(scope: CaScope): x509.Extension {
  const subtree = (base: GeneralName) => new GeneralSubtree({ base });
  const constraints = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees([
      ...scope.domains.map((d) => subtree(new GeneralName({ dNSName: d }))),
      ...scope.networks.map((n) => subtree(new GeneralName({ iPAddress: n }))),
    ]),
  });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints));
}

/** The permitted DNS subtrees and networks of a CA certificate (empty when it has none). */
export function permittedNames(ca: x509.X509Certificate): { domains: string[]; networks: string[] } {
  const ext = ca.getExtension(id_ce_nameConstraints);
  if (!ext) return { domains: [], networks: [] };
  const parsed = AsnConvert.parse(ext.value, NameConstraints);
  const domains: string[] = [];
  const networks: string[] = [];
  for (const s of parsed.permittedSubtrees ?? []) {
    if (s.base.dNSName !== undefined) domains.push(s.base.dNSName);
    if (s.base.iPAddress !== undefined) networks.push(s.base.iPAddress);
  }
  return { domains, networks };
}

/** Splits the box's names into those the CA may vouch for and the rest (RFC 5280 matching). */
export function withinConstraints(
  names: BoxNames,
  permitted: { domains: string[]; networks: string[] },
): { names: BoxNames; skipped: string[] } {
  const blocks = new BlockList();
  for (const n of permitted.networks) {
    const [address, prefix] = n.split('/');
    const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    blocks.addSubnet(address!, Number(prefix), family);
  }
  const dnsOk = (name: string) => permitted.domains.some((d) => name === d || name.endsWith(`.${d}`));
  const ipOk = (ip: string) => blocks.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  return {
    names: { dns: names.dns.filter(dnsOk), ips: names.ips.filter(ipOk) },
    skipped: [...names.dns.filter((n) => !dnsOk(n)), ...names.ips.filter((ip) => !ipOk(ip))],
  };
}

function caInfo(cert: x509.X509Certificate): CaCertificate {
  const der = new Uint8Array(cert.rawData);
  return { pem: cert.toString('pem'), der, fingerprint: fingerprintOf(der), notAfter: cert.notAfter };
}

/**
 * Why a CA vouches for more than a hall CA may (module comment), or undefined when it does not.
 * Ranges in `allowed` (this box's scope now, e.g. a configured /16) do not count as too wide.
 */
export function tooWide(ca: x509.X509Certificate, allowed: CaScope): string | undefined {
  const days = (ca.notAfter.getTime() - ca.notBefore.getTime()) / DAY;
  if (days > CA_VALIDITY_DAYS + 2) return `it is valid for ${Math.round(days / 365)} years`;
  if (!ca.getExtension(id_ce_nameConstraints)) return 'it has no name constraints';
  const permitted = permittedNames(ca);
  const wideDomain = permitted.domains.find((d) => (WIDE_DOMAINS as readonly string[]).includes(d));
  if (wideDomain !== undefined) return `it vouches for every name under .${wideDomain}`;
  const wideNetwork = permitted.networks.find((n) => {
    const [address, prefix] = n.split('/');
    const widest = isIP(address ?? '') === 6 ? 64 : 24;
    return Number(prefix) < widest && !allowed.networks.includes(n);
  });
  if (wideNetwork !== undefined) return `it vouches for every address in ${wideNetwork}`;
  return undefined;
}

/** Creates a CA whose name constraints permit `scope` only. */
export async function createCa(input: {
  applianceName: string;
  scope: CaScope;
  now: number;
  /** CA_VALIDITY_DAYS unless given (tests make CAs as older versions did). */
  validityDays?: number;
}): Promise<{ cert: x509.X509Certificate; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const issued = Math.max(input.now, EARLIEST_PLAUSIBLE_TIME);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${input.applianceName} exam hall CA, O=Exam hall appliance`,
    notBefore: new Date(issued - DAY),
    notAfter: new Date(issued + (input.validityDays ?? CA_VALIDITY_DAYS) * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      nameConstraintsExtension(input.scope),
    ],
  });
  return { cert, keyPem: await pemOfKey(keys.privateKey) };
}

/** Issues a server certificate for `names` signed by the CA. */
export async function issueServerCertificate(input: {
  ca: x509.X509Certificate;
  caKeyPem: string;
  applianceName: string;
  names: BoxNames;
  now: number;
}): Promise<ServerCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const issued = Math.max(input.now, EARLIEST_PLAUSIBLE_TIME);
  // Never past the CA's end: a chain is only as valid as its CA.
  const notAfter = new Date(Math.min(issued + SERVER_VALIDITY_DAYS * DAY, input.ca.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${input.applianceName}.local`,
    issuer: input.ca.subject,
    notBefore: new Date(issued - DAY),
    notAfter,
    signingKey: await importKey(input.caKeyPem),
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...input.names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...input.names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(input.ca),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await pemOfKey(keys.privateKey), notAfter, names: input.names };
}

const REINSTALL =
  'every device must install the new one (the onboarding page shows its new fingerprint; put it on the proctors’ notice)';

/** Why the CA on disk must be replaced, or undefined when it may stay. */
function replacementReason(
  cert: x509.X509Certificate,
  input: { scope: CaScope; now: number; clockTrusted: boolean },
): string | undefined {
  if (cert.notAfter.getTime() <= input.now) return `the hall CA expired on ${cert.notAfter.toISOString()}`;
  const wide = tooWide(cert, input.scope);
  if (wide !== undefined)
    return `the hall CA vouches for more than this box (${wide}): making one limited to this box's names and subnets`;
  // On a trusted clock: a CA made on a clock far ahead is not valid yet, or valid for too long.
  if (input.clockTrusted && cert.notBefore.getTime() > input.now)
    return `the hall CA was made on a wrong clock (not valid until ${cert.notBefore.toISOString()})`;
  if (input.clockTrusted && cert.notAfter.getTime() > input.now + (CA_VALIDITY_DAYS + 2) * DAY)
    return `the hall CA was made on a wrong clock (valid until ${cert.notAfter.toISOString()})`;
  return undefined;
}

/** Reads the CA, creating it when there is none (or only half of one) or replacing it (replacementReason). */
async function loadOrCreateCa(
  dir: string,
  input: { applianceName: string; scope: CaScope; now: number; clockTrusted: boolean; log: TlsLog },
): Promise<{ cert: x509.X509Certificate; keyPem: string; created: boolean }> {
  const keyPem = await readOptional(path.join(dir, TLS_FILES.caKey));
  const certPem = await readOptional(path.join(dir, TLS_FILES.caCert));
  if (keyPem !== undefined && certPem !== undefined) {
    const cert = new x509.X509Certificate(certPem);
    const reason = replacementReason(cert, input);
    if (reason === undefined) {
      const daysLeft = Math.floor((cert.notAfter.getTime() - input.now) / DAY);
      if (daysLeft < CA_WARN_WITHIN_DAYS)
        input.log(
          'warn',
          `the hall CA ends on ${cert.notAfter.toISOString()} (${daysLeft} days): a new one is made then, and every device must install it`,
        );
      return { cert, keyPem, created: false };
    }
    input.log('warn', `${reason}; replacing it: ${REINSTALL}`);
  } else if (keyPem !== undefined || certPem !== undefined) {
    input.log('warn', 'the hall CA is incomplete (ca.key or ca.crt missing): making a new one');
  }
  const made = await createCa(input);
  // The key first: a CA certificate on disk always has its key.
  await writePrivate(path.join(dir, TLS_FILES.caKey), made.keyPem);
  await writePrivate(path.join(dir, TLS_FILES.caCert), made.cert.toString('pem'));
  return { ...made, created: true };
}

/** Why the server certificate on disk must be issued again, or undefined when it is good. */
async function renewalReason(
  dir: string,
  ca: x509.X509Certificate,
  names: BoxNames,
  now: number,
  clockTrusted: boolean,
): Promise<string | undefined> {
  const certPem = await readOptional(path.join(dir, TLS_FILES.serverCert));
  const keyPem = await readOptional(path.join(dir, TLS_FILES.serverKey));
  const metaText = await readOptional(path.join(dir, TLS_FILES.serverMeta));
  if (certPem === undefined || keyPem === undefined || metaText === undefined) return 'no server certificate yet';
  let meta: ServerMeta;
  try {
    meta = JSON.parse(metaText) as ServerMeta;
  } catch {
    return 'server.json is damaged';
  }
  if (meta.certSha256 !== sha256Hex(certPem) || meta.keySha256 !== sha256Hex(keyPem))
    return 'the certificate files do not match each other';
  const cert = new x509.X509Certificate(certPem);
  if (cert.issuer !== ca.subject || !(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })))
    return 'the certificate is not from this CA';
  if (cert.notBefore.getTime() > now) return `the certificate is not valid until ${cert.notBefore.toISOString()}`;
  if (clockTrusted && meta.clockTrusted === false) return 'it was issued on an untrusted clock, which is now trusted';
  const daysLeft = (cert.notAfter.getTime() - now) / DAY;
  // A certificate ending with its CA cannot be made to last longer by the same CA.
  if (daysLeft < RENEW_WITHIN_DAYS && cert.notAfter.getTime() < ca.notAfter.getTime())
    return `${Math.max(0, Math.floor(daysLeft))} days left`;
  const had = meta.names;
  if (had.dns.join(',') !== names.dns.join(',') || had.ips.join(',') !== names.ips.join(','))
    return `the names changed (${[...had.dns, ...had.ips].join(' ')} → ${[...names.dns, ...names.ips].join(' ')})`;
  return undefined;
}

/**
 * Makes sure the CA and a current server certificate for `names` exist in `dir`, creating or
 * renewing what is needed, and returns them.
 */
export async function ensureLocalCa(input: {
  dir: string;
  applianceName: string;
  /** Every name and address of the box (boxNames()). */
  names: BoxNames;
  /** What a new CA may vouch for (caScope()); a CA on disk wider than this rule is replaced. */
  scope: CaScope;
  now: number;
  /** Whether `now` comes from a trusted clock (default true); see renewalReason. */
  clockTrusted?: boolean;
  log: TlsLog;
}): Promise<LocalCa> {
  const clockTrusted = input.clockTrusted ?? true;
  await mkdir(input.dir, { recursive: true, mode: 0o700 });
  await chmod(input.dir, 0o700);
  const ca = await loadOrCreateCa(input.dir, { ...input, clockTrusted });
  if (ca.created)
    input.log(
      'info',
      `created the hall CA in ${input.dir}, valid until ${ca.cert.notAfter.toISOString()}, for ` +
        `${[...input.scope.domains, ...input.scope.networks].join(' ')}`,
    );
  const { names, skipped } = withinConstraints(input.names, permittedNames(ca.cert));
  if (skipped.length > 0)
    input.log(
      'warn',
      `left out of the certificate (the hall CA may not vouch for them; delete ${input.dir} to make a CA that does, ` +
        `and install it again on every device): ${skipped.join(' ')}`,
    );
  const reason = await renewalReason(input.dir, ca.cert, names, input.now, clockTrusted);
  if (reason === undefined) {
    const certPem = await readFile(path.join(input.dir, TLS_FILES.serverCert), 'utf8');
    const keyPem = await readFile(path.join(input.dir, TLS_FILES.serverKey), 'utf8');
    const cert = new x509.X509Certificate(certPem);
    return {
      ca: caInfo(ca.cert),
      server: { certPem, keyPem, notAfter: cert.notAfter, names },
      issued: undefined,
      skipped,
    };
  }
  const server = await issueServerCertificate({
    ca: ca.cert,
    caKeyPem: ca.keyPem,
    applianceName: input.applianceName,
    names,
    now: input.now,
  });
  await writePrivate(path.join(input.dir, TLS_FILES.serverKey), server.keyPem);
  await writePrivate(path.join(input.dir, TLS_FILES.serverCert), server.certPem);
  const meta: ServerMeta = {
    schemaVersion: 2,
    names,
    notAfter: server.notAfter.toISOString(),
    certSha256: sha256Hex(server.certPem),
    keySha256: sha256Hex(server.keyPem),
    clockTrusted,
  };
  await writePrivate(path.join(input.dir, TLS_FILES.serverMeta), `${JSON.stringify(meta, null, 2)}\n`);
  input.log(
    'info',
    `issued the server certificate (${reason}), valid until ${server.notAfter.toISOString()}` +
      (clockTrusted ? '' : ' (the clock is not trusted yet: it is issued again once it is)'),
  );
  return { ca: caInfo(ca.cert), server, issued: reason, skipped };
}

/**
 * The box's own certificate authority (PROCTOR_HTTPS_MODE=local-ca).
 *
 * Files, in `<dataDir>/tls/` (folder 0700, every file 0600, each written to a temp file and
 * renamed into place):
 *   ca.key       the CA's ECDSA P-256 private key, PKCS#8 PEM — never leaves the box
 *   ca.crt       the CA certificate, PEM — what devices install (served on the onboarding page)
 *   server.key   the server's ECDSA P-256 private key, PKCS#8 PEM
 *   server.crt   the server certificate, PEM, issued by the CA
 *   server.json  {schemaVersion, names, notAfter, certSha256, keySha256}: what the certificate
 *                names, written last, so a crash between the renames is noticed and mended
 *
 * The CA: self-signed, 10 years, basicConstraints CA:true pathLen 0 (critical), keyUsage
 * keyCertSign + cRLSign (critical), subject key identifier, and nameConstraints (critical) that
 * permit only names a hall box can have — `.local`, `localhost`, the host name and extra names
 * configured when the CA was made, and private, loopback, link-local and shared addresses — so an
 * installed CA cannot vouch for anyone's bank even if the box is stolen.
 *
 * The server certificate: 397 days (the most browsers accept), subject alternative names for
 * every name and address of the box that the CA may vouch for, EKU serverAuth, keyUsage
 * digitalSignature, CA:false, authority and subject key identifiers. It is issued again when
 * fewer than 30 days are left, when the box's names or addresses change, when it is not yet
 * valid (the clock was set back), or when its files do not match.
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
import type { BoxNames } from './box-names.js';
import { x509 } from './x509.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
export const CA_VALIDITY_DAYS = 3_650;
export const SERVER_VALIDITY_DAYS = 397;
/** Issue the server certificate again when fewer days than this are left. */
export const RENEW_WITHIN_DAYS = 30;
/**
 * A box without a real-time clock may boot in 1970 or at its last shutdown. Certificates are
 * never dated before this (the release year), so one issued on a clock far behind is still valid
 * once the clock is right; the check at the next trusted clock renews it anyway.
 */
export const EARLIEST_PLAUSIBLE_TIME = Date.UTC(2026, 0, 1);

/** Addresses a hall box can have: private, loopback, link-local, shared (CGNAT), unique-local. */
export const PERMITTED_NETWORKS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '100.64.0.0/10',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
] as const;
/** DNS names every CA permits (besides the host name and extra names it was made with). */
export const PERMITTED_DOMAINS = ['local', 'localhost', 'home.arpa', 'internal'] as const;

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
  schemaVersion: 1;
  names: BoxNames;
  notAfter: string;
  certSha256: string;
  keySha256: string;
}

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

function nameConstraintsExtension(domains: readonly string[]): x509.Extension {
  const subtree = (base: GeneralName) => new GeneralSubtree({ base });
  const constraints = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees([
      ...domains.map((d) => subtree(new GeneralName({ dNSName: d }))),
      ...PERMITTED_NETWORKS.map((n) => subtree(new GeneralName({ iPAddress: n }))),
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

/** Creates a CA whose name constraints permit the hall's names plus `extraDomains`. */
export async function createCa(input: {
  applianceName: string;
  extraDomains: readonly string[];
  now: number;
}): Promise<{ cert: x509.X509Certificate; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const issued = Math.max(input.now, EARLIEST_PLAUSIBLE_TIME);
  const domains = [...new Set([...PERMITTED_DOMAINS, ...input.extraDomains])];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${input.applianceName} exam hall CA, O=Exam hall appliance`,
    notBefore: new Date(issued - DAY),
    notAfter: new Date(issued + CA_VALIDITY_DAYS * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      nameConstraintsExtension(domains),
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
  const notAfter = new Date(issued + SERVER_VALIDITY_DAYS * DAY);
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

/** Reads the CA, creating it when there is none (or only half of one). */
async function loadOrCreateCa(
  dir: string,
  input: { applianceName: string; extraDomains: readonly string[]; now: number; log: (line: string) => void },
): Promise<{ cert: x509.X509Certificate; keyPem: string; created: boolean }> {
  const keyPem = await readOptional(path.join(dir, TLS_FILES.caKey));
  const certPem = await readOptional(path.join(dir, TLS_FILES.caCert));
  if (keyPem !== undefined && certPem !== undefined) {
    const cert = new x509.X509Certificate(certPem);
    if (cert.notAfter.getTime() > input.now) return { cert, keyPem, created: false };
    input.log(
      `the hall CA expired on ${cert.notAfter.toISOString()}: making a new one (devices must install it again)`,
    );
  } else if (keyPem !== undefined || certPem !== undefined) {
    input.log('the hall CA is incomplete (ca.key or ca.crt missing): making a new one');
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
  const daysLeft = (cert.notAfter.getTime() - now) / DAY;
  if (daysLeft < RENEW_WITHIN_DAYS) return `${Math.max(0, Math.floor(daysLeft))} days left`;
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
  /** DNS names the CA must permit besides the defaults (host name, extra names); used only when the CA is made. */
  extraDomains: readonly string[];
  now: number;
  log: (line: string) => void;
}): Promise<LocalCa> {
  await mkdir(input.dir, { recursive: true, mode: 0o700 });
  await chmod(input.dir, 0o700);
  const ca = await loadOrCreateCa(input.dir, input);
  if (ca.created) input.log(`created the hall CA in ${input.dir}`);
  const { names, skipped } = withinConstraints(input.names, permittedNames(ca.cert));
  if (skipped.length > 0)
    input.log(
      `left out of the certificate (the hall CA may not vouch for them; delete ${input.dir} to make a CA that does, ` +
        `and install it again on every device): ${skipped.join(' ')}`,
    );
  const reason = await renewalReason(input.dir, ca.cert, names, input.now);
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
    schemaVersion: 1,
    names,
    notAfter: server.notAfter.toISOString(),
    certSha256: sha256Hex(server.certPem),
    keySha256: sha256Hex(server.keyPem),
  };
  await writePrivate(path.join(input.dir, TLS_FILES.serverMeta), `${JSON.stringify(meta, null, 2)}\n`);
  input.log(`issued the server certificate (${reason}), valid until ${server.notAfter.toISOString()}`);
  return { ca: caInfo(ca.cert), server, issued: reason, skipped };
}

import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { boxNames, type BoxNames } from './box-names.js';
import { certificateStatus, CertificateKeeper } from './index.js';
import {
  ensureLocalCa,
  permittedNames,
  RENEW_WITHIN_DAYS,
  SERVER_VALIDITY_DAYS,
  TLS_FILES,
  withinConstraints,
} from './local-ca.js';
import { x509 } from './x509.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 30, 8, 0, 0);
const NAMES: BoxNames = boxNames({
  applianceName: 'exam-hall',
  hostname: 'hallpi',
  interfaces: {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null }],
    eth0: [
      { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: null },
      {
        address: 'fe80::1%eth0',
        netmask: 'ffff:ffff:ffff:ffff::',
        family: 'IPv6',
        mac: '',
        internal: false,
        scopeid: 2,
        cidr: null,
      },
    ],
  },
  extraNames: [],
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'tls-test-'));
  dirs.push(d);
  return path.join(d, 'tls');
}
const logs: string[] = [];
const ensure = (dir: string, now = NOW, names = NAMES) =>
  ensureLocalCa({ dir, applianceName: 'exam-hall', names, extraDomains: ['hallpi'], now, log: (l) => logs.push(l) });

describe('the box’s names', () => {
  it('are <name>.local, the host name, localhost, every non-internal address, 127.0.0.1 and ::1', () => {
    expect(NAMES).toEqual({
      dns: ['exam-hall.local', 'hallpi', 'localhost'],
      ips: ['127.0.0.1', '192.168.1.20', '::1', 'fe80::1'],
    });
  });
  it('take extra names and addresses', () => {
    const names = boxNames({
      applianceName: 'x',
      hostname: 'h',
      interfaces: {},
      extraNames: ['Exam.Campus.Internal', '10.1.2.3', 'not a name'],
    });
    expect(names.dns).toContain('exam.campus.internal');
    expect(names.ips).toContain('10.1.2.3');
    expect(names.dns).not.toContain('not a name');
  });
});

describe('the local CA', () => {
  it('is a proper CA: CA:true pathLen 0, keyCertSign + cRLSign, name constraints, files 0600', async () => {
    const dir = await tempDir();
    const made = await ensure(dir);
    const ca = new x509.X509Certificate(made.ca.pem);
    const bc = ca.getExtension(x509.BasicConstraintsExtension)!;
    expect(bc).toMatchObject({ ca: true, pathLength: 0, critical: true });
    const ku = ca.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const permitted = permittedNames(ca);
    expect(permitted.domains).toEqual(expect.arrayContaining(['local', 'localhost', 'hallpi']));
    expect(permitted.networks).toEqual(expect.arrayContaining(['192.168.0.0/16', '10.0.0.0/8', 'fc00::/7']));
    expect(ca.extensions.find((e) => e.type === '2.5.29.30')?.critical).toBe(true);
    expect(ca.notAfter.getTime() - NOW).toBeGreaterThan(9 * 365 * DAY);
    expect(made.ca.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
    for (const f of Object.values(TLS_FILES))
      expect(((await stat(path.join(dir, f))).mode & 0o777).toString(8), f).toBe('600');
  });

  it('issues a server certificate with every name in its SAN, serverAuth, ≤ 397 days, signed by the CA', async () => {
    const dir = await tempDir();
    const made = await ensure(dir);
    const cert = new X509Certificate(made.server.certPem);
    const ca = new X509Certificate(made.ca.pem);
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(
      [
        'DNS:exam-hall.local',
        'DNS:hallpi',
        'DNS:localhost',
        'IP Address:127.0.0.1',
        'IP Address:192.168.1.20',
        'IP Address:0:0:0:0:0:0:0:1',
        'IP Address:FE80:0:0:0:0:0:0:1',
      ].sort(),
    );
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY;
    expect(days).toBeLessThanOrEqual(SERVER_VALIDITY_DAYS + 1);
    expect(Date.parse(cert.validTo)).toBeLessThanOrEqual(NOW + SERVER_VALIDITY_DAYS * DAY);
    expect(Date.parse(cert.validFrom)).toBeLessThan(NOW);
  });

  it('serves TLS that a client trusting only the CA accepts for the box’s names (OpenSSL checks the name constraints)', async () => {
    const dir = await tempDir();
    const made = await ensure(dir, Date.now());
    const server = createServer({ cert: made.server.certPem, key: made.server.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const ask = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port, ca: made.ca.pem, servername, path: '/' }, (res) => {
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
    try {
      expect(await ask('exam-hall.local')).toBe('ok');
      expect(await ask('localhost')).toBe('ok');
      await expect(ask('bank.example')).rejects.toThrow(/altnames|Hostname/i);
    } finally {
      server.close();
    }
  });

  it('keeps the certificate while it is good, and renews it under 30 days left, when names change or when not yet valid', async () => {
    const dir = await tempDir();
    const first = await ensure(dir);
    expect(first.issued).toBe('no server certificate yet');
    const again = await ensure(dir, NOW + 10 * DAY);
    expect(again.issued).toBeUndefined();
    expect(again.server.certPem).toBe(first.server.certPem);
    expect(again.ca.fingerprint).toBe(first.ca.fingerprint);

    const nearExpiry = first.server.notAfter.getTime() - (RENEW_WITHIN_DAYS - 1) * DAY;
    const renewed = await ensure(dir, nearExpiry);
    expect(renewed.issued).toMatch(/days left/);
    expect(renewed.server.notAfter.getTime()).toBeGreaterThan(first.server.notAfter.getTime());
    expect(renewed.ca.fingerprint).toBe(first.ca.fingerprint);

    const moved = { ...NAMES, ips: [...NAMES.ips, '10.20.0.5'].sort() };
    const onNewAddress = await ensure(dir, nearExpiry, moved);
    expect(onNewAddress.issued).toMatch(/names changed/);
    expect(new X509Certificate(onNewAddress.server.certPem).subjectAltName).toContain('IP Address:10.20.0.5');

    const setBack = await ensure(dir, nearExpiry - 30 * DAY, moved);
    expect(setBack.issued).toMatch(/not valid until/);
  });

  it('mends files that do not match (a crash between writes) and leaves out names the CA may not vouch for', async () => {
    const dir = await tempDir();
    await ensure(dir);
    await writeFile(path.join(dir, TLS_FILES.serverKey), (await ensure(await tempDir())).server.keyPem);
    const mended = await ensure(dir);
    expect(mended.issued).toMatch(/do not match/);

    const withPublic = { dns: [...NAMES.dns, 'bank.example'].sort(), ips: [...NAMES.ips, '8.8.8.8'].sort() };
    const limited = await ensure(dir, NOW, withPublic);
    expect(limited.skipped).toEqual(['bank.example', '8.8.8.8']);
    expect(new X509Certificate(limited.server.certPem).subjectAltName).not.toContain('8.8.8.8');
    expect(logs.some((l) => l.includes('left out of the certificate'))).toBe(true);
  });

  it('matches name constraints as RFC 5280 says', () => {
    const permitted = { domains: ['local'], networks: ['192.168.0.0/16', 'fc00::/7'] };
    const r = withinConstraints(
      { dns: ['a.local', 'local', 'xlocal', 'a.local.evil'], ips: ['192.168.9.9', 'fd00::1', '10.0.0.1'] },
      permitted,
    );
    expect(r.names).toEqual({ dns: ['a.local', 'local'], ips: ['192.168.9.9', 'fd00::1'] });
    expect(r.skipped).toEqual(['xlocal', 'a.local.evil', '10.0.0.1']);
  });
});

describe('certificateStatus (for the box’s doctor check)', () => {
  it('reports mode, expiry, days left and names; off has none', async () => {
    const dir = await tempDir();
    const dataDir = path.dirname(dir);
    const settings = {
      httpsMode: 'local-ca' as const,
      dataDir,
      applianceName: 'exam-hall',
      tlsCert: '',
      tlsKey: '',
      tlsExtraNames: [],
    };
    const missing = await certificateStatus(settings, NOW);
    expect(missing.problem).toMatch(/no readable certificate/);
    const keeper = new CertificateKeeper(settings, { now: () => NOW, log: () => undefined, names: () => NAMES });
    const material = await keeper.check();
    const status = await certificateStatus(settings, NOW);
    expect(status).toMatchObject({
      mode: 'local-ca',
      notAfter: material.notAfter.toISOString(),
      daysLeft: SERVER_VALIDITY_DAYS,
      renewDue: false,
      caFingerprint: material.ca!.fingerprint,
      problem: null,
    });
    expect(status.names).toEqual(expect.arrayContaining(['exam-hall.local', 'localhost', '127.0.0.1', '192.168.1.20']));
    expect(await readFile(status.certPath!, 'utf8')).toBe(material.certPem);
    expect((await certificateStatus(settings, material.notAfter.getTime() - 5 * DAY)).renewDue).toBe(true);
    expect(await certificateStatus({ ...settings, httpsMode: 'off' })).toMatchObject({
      mode: 'off',
      notAfter: null,
      daysLeft: null,
      names: [],
    });
  });
});

describe('CertificateKeeper', () => {
  const settings = (dataDir: string) => ({
    httpsMode: 'local-ca' as const,
    dataDir,
    applianceName: 'exam-hall',
    tlsCert: '',
    tlsKey: '',
    tlsExtraNames: [],
  });

  it('hands a renewed certificate to the server when the box’s addresses change', async () => {
    const dataDir = path.dirname(await tempDir());
    let names = NAMES;
    const keeper = new CertificateKeeper(settings(dataDir), {
      now: () => NOW,
      log: () => undefined,
      names: () => names,
    });
    const first = await keeper.check();
    const renewed: string[] = [];
    keeper.watch((m) => renewed.push(m.certPem));
    try {
      keeper.recheck('nothing changed');
      await keeper.check();
      expect(renewed).toEqual([]);
      names = { ...NAMES, ips: [...NAMES.ips, '10.9.8.7'].sort() };
      keeper.recheck('the addresses changed');
      await keeper.check();
      await new Promise((r) => setImmediate(r));
      expect(renewed).toHaveLength(1);
      expect(renewed[0]).not.toBe(first.certPem);
      expect(new X509Certificate(renewed[0]!).subjectAltName).toContain('IP Address:10.9.8.7');
    } finally {
      keeper.stop();
    }
  });

  it('provided mode serves the given files, and says which one it cannot read', async () => {
    const tls = await tempDir();
    const made = await ensure(tls);
    const provided = {
      ...settings(path.dirname(tls)),
      httpsMode: 'provided' as const,
      tlsCert: path.join(tls, TLS_FILES.serverCert),
      tlsKey: path.join(tls, TLS_FILES.serverKey),
    };
    const keeper = new CertificateKeeper(provided, { now: () => NOW, log: () => undefined });
    const material = await keeper.check();
    expect(material).toMatchObject({
      mode: 'provided',
      certPem: made.server.certPem,
      keyPem: made.server.keyPem,
      ca: undefined,
    });
    expect(await certificateStatus(provided, NOW)).toMatchObject({
      mode: 'provided',
      caPath: null,
      daysLeft: SERVER_VALIDITY_DAYS,
    });
    const missing = new CertificateKeeper(
      { ...provided, tlsKey: path.join(tls, 'nope.key') },
      { now: () => NOW, log: () => undefined },
    );
    await expect(missing.check()).rejects.toThrow(/PROCTOR_TLS_KEY.*nope\.key/);
  });
});

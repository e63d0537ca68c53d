import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { boxNames, caScope, type BoxNames } from './box-names.js';
import { certificateStatus, CertificateKeeper, type BoxNetwork } from './index.js';
import {
  CA_VALIDITY_DAYS,
  createCa,
  ensureLocalCa,
  fingerprintOf,
  permittedNames,
  RENEW_WITHIN_DAYS,
  SERVER_VALIDITY_DAYS,
  TLS_FILES,
  withinConstraints,
} from './local-ca.js';
import { x509 } from './x509.js';
import { ClockTrust, type TimeSyncState } from '../time/clock-trust.js';
import { v4, v6 } from '../../../tests/support/network-interfaces.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 30, 8, 0, 0);
const INTERFACES = {
  lo: [v4('127.0.0.1', '255.0.0.0', true)],
  eth0: [v4('192.168.1.20', '255.255.255.0'), v6('fe80::1%eth0', 'ffff:ffff:ffff:ffff::', 2)],
};
const NETWORK: BoxNetwork = { hostname: 'hallpi', interfaces: INTERFACES };
const NAMES: BoxNames = boxNames({ applianceName: 'exam-hall', ...NETWORK, extraNames: [] });
const SCOPE = caScope({ names: NAMES, interfaces: INTERFACES, configuredNetworks: [] });

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
const ensure = (dir: string, now = NOW, names = NAMES, scope = SCOPE) =>
  ensureLocalCa({ dir, applianceName: 'exam-hall', names, scope, now, log: (_level, l) => logs.push(l) });

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

describe('what the hall CA may vouch for (caScope)', () => {
  it('is the box’s names, its addresses, and each interface’s subnet at most a /24 (IPv6 /64); link-local only itself', () => {
    const interfaces = {
      lo: [v4('127.0.0.1', '255.0.0.0', true)],
      eth0: [
        v4('172.20.14.9', '255.255.0.0'),
        v6('2001:db8:5:6:7::9', 'ffff:ffff:ffff:ffff::', 2),
        v6('fe80::9%eth0', 'ffff:ffff:ffff:ffff::', 2),
      ],
      wlan0: [v4('10.42.0.1', '255.255.255.0'), v4('169.254.3.4', '255.255.0.0')],
      usb0: [v4('192.168.7.2', '255.255.255.252')],
    };
    const names = boxNames({
      applianceName: 'exam-hall',
      hostname: 'hallpi',
      interfaces,
      extraNames: ['exam.school.internal', '192.0.2.10'],
    });
    expect(caScope({ names, interfaces, configuredNetworks: [] })).toEqual({
      domains: ['exam-hall.local', 'exam.school.internal', 'hallpi', 'localhost'],
      networks: [
        '10.42.0.0/24',
        '127.0.0.1/32',
        '169.254.3.4/32',
        '172.20.14.0/24',
        '192.0.2.10/32',
        '192.168.7.0/30',
        '2001:db8:5:6::/64',
        '::1/128',
        'fe80::9/128',
      ],
    });
  });

  it('takes the configured hall subnets (PROCTOR_TLS_CA_NETWORKS) instead of the interfaces’, keeping the box’s own addresses', () => {
    const names = boxNames({ applianceName: 'exam-hall', ...NETWORK, extraNames: [] });
    expect(caScope({ names, interfaces: INTERFACES, configuredNetworks: ['10.20.0.0/16', 'FD00:0::/48'] })).toEqual({
      domains: ['exam-hall.local', 'hallpi', 'localhost'],
      networks: ['10.20.0.0/16', '127.0.0.1/32', '192.168.1.20/32', '::1/128', 'fd00::/48', 'fe80::1/128'],
    });
  });
});

describe('the local CA', () => {
  it('is a proper CA: CA:true pathLen 0, keyCertSign + cRLSign, name constraints for this box only, 2 years, files 0600', async () => {
    const dir = await tempDir();
    const made = await ensure(dir);
    const ca = new x509.X509Certificate(made.ca.pem);
    const bc = ca.getExtension(x509.BasicConstraintsExtension)!;
    expect(bc).toMatchObject({ ca: true, pathLength: 0, critical: true });
    const ku = ca.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(permittedNames(ca)).toEqual({
      domains: ['exam-hall.local', 'hallpi', 'localhost'],
      networks: ['127.0.0.1/32', '192.168.1.0/24', '::1/128', 'fe80::1/128'],
    });
    expect(ca.extensions.find((e) => e.type === '2.5.29.30')?.critical).toBe(true);
    expect(ca.notAfter.getTime()).toBe(NOW + CA_VALIDITY_DAYS * DAY);
    expect(CA_VALIDITY_DAYS).toBe(730);
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

    // A second address in the hall's subnet (DHCP gave another one).
    const moved = { ...NAMES, ips: [...NAMES.ips, '192.168.1.77'].sort() };
    const onNewAddress = await ensure(dir, nearExpiry, moved);
    expect(onNewAddress.issued).toMatch(/names changed/);
    expect(new X509Certificate(onNewAddress.server.certPem).subjectAltName).toContain('IP Address:192.168.1.77');

    const setBack = await ensure(dir, nearExpiry - 30 * DAY, moved);
    expect(setBack.issued).toMatch(/not valid until/);
  });

  it('mends files that do not match (a crash between writes) and leaves out names the CA may not vouch for', async () => {
    const dir = await tempDir();
    await ensure(dir);
    await writeFile(path.join(dir, TLS_FILES.serverKey), (await ensure(await tempDir())).server.keyPem);
    const mended = await ensure(dir);
    expect(mended.issued).toMatch(/do not match/);

    // A box moved to another network: its new address is outside the subnets the CA was made for.
    const withPublic = {
      dns: [...NAMES.dns, 'bank.example'].sort(),
      ips: [...NAMES.ips, '10.20.0.5', '8.8.8.8'].sort(),
    };
    const limited = await ensure(dir, NOW, withPublic);
    expect(limited.skipped).toEqual(['bank.example', '10.20.0.5', '8.8.8.8']);
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

describe('a hall CA made by an older version or on a wrong clock', () => {
  const OLD_WIDE = {
    domains: ['local', 'localhost', 'home.arpa', 'internal', 'hallpi'],
    networks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '::1/128', 'fc00::/7'],
  };
  async function plantCa(dir: string, ca: { cert: x509.X509Certificate; keyPem: string }) {
    await ensure(dir);
    await writeFile(path.join(dir, TLS_FILES.caKey), ca.keyPem);
    await writeFile(path.join(dir, TLS_FILES.caCert), ca.cert.toString('pem'));
  }

  it('is replaced at start when it vouches for every private range and .local/.internal name for 10 years, and says devices must install it again', async () => {
    const dir = await tempDir();
    const old = await createCa({ applianceName: 'exam-hall', scope: OLD_WIDE, now: NOW, validityDays: 3_650 });
    await plantCa(dir, old);
    logs.length = 0;
    const lines: { level: string; line: string }[] = [];
    const made = await ensureLocalCa({
      dir,
      applianceName: 'exam-hall',
      names: NAMES,
      scope: SCOPE,
      now: NOW + DAY,
      log: (level, line) => lines.push({ level, line }),
    });
    // The onboarding page's fingerprint changes.
    expect(made.ca.fingerprint).not.toBe(fingerprintOf(new Uint8Array(old.cert.rawData)));
    expect(permittedNames(new x509.X509Certificate(made.ca.pem))).toEqual(SCOPE);
    expect(lines).toContainEqual({
      level: 'warn',
      line: expect.stringMatching(
        /vouches for more than this box \(it is valid for 10 years\).*every device must install the new one.*fingerprint/,
      ),
    });
    // The server certificate is from the new CA.
    expect(new X509Certificate(made.server.certPem).checkIssued(new X509Certificate(made.ca.pem))).toBe(true);
    expect(made.issued).toMatch(/not from this CA/);
    // Once replaced, it stays.
    expect((await ensure(dir, NOW + 2 * DAY)).ca.fingerprint).toBe(made.ca.fingerprint);

    // Two years but wide constraints: replaced too.
    const wide = await createCa({ applianceName: 'exam-hall', scope: OLD_WIDE, now: NOW });
    await plantCa(dir, wide);
    logs.length = 0;
    await ensure(dir, NOW + DAY);
    expect(logs.some((l) => /every name under \.local.*every device must install/.test(l))).toBe(true);
    const subnet = await createCa({
      applianceName: 'exam-hall',
      scope: { ...SCOPE, networks: ['192.168.0.0/16'] },
      now: NOW,
    });
    await plantCa(dir, subnet);
    logs.length = 0;
    await ensure(dir, NOW + DAY);
    expect(logs.some((l) => l.includes('every address in 192.168.0.0/16'))).toBe(true);
  });

  it('made on a clock far ahead is replaced once the clock is trusted, not before', async () => {
    const dir = await tempDir();
    const ahead = NOW + 400 * DAY;
    const first = await ensure(dir, ahead);
    const untrusted = await ensureLocalCa({
      dir,
      applianceName: 'exam-hall',
      names: NAMES,
      scope: SCOPE,
      now: NOW,
      clockTrusted: false,
      log: () => undefined,
    });
    expect(untrusted.ca.fingerprint).toBe(first.ca.fingerprint);
    logs.length = 0;
    const trusted = await ensure(dir, NOW);
    expect(trusted.ca.fingerprint).not.toBe(first.ca.fingerprint);
    expect(logs.some((l) => /made on a wrong clock \(not valid until/.test(l))).toBe(true);
    expect(new X509Certificate(trusted.ca.pem).validFromDate.getTime()).toBeLessThan(NOW);
  });

  it('never gives the server certificate a longer life than the CA, and does not issue it daily near the CA’s end', async () => {
    const dir = await tempDir();
    const made = await ensure(dir);
    const nearCaEnd = made.ca.notAfter.getTime() - 100 * DAY;
    const late = await ensure(dir, nearCaEnd);
    expect(late.server.notAfter.getTime()).toBe(made.ca.notAfter.getTime());
    const lastWeeks = await ensure(dir, made.ca.notAfter.getTime() - 20 * DAY);
    expect(lastWeeks.issued).toBeUndefined();
    expect(logs.some((l) => /the hall CA ends on .* \(20 days\)/.test(l))).toBe(true);
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
      tlsCaNetworks: [],
    };
    const missing = await certificateStatus(settings, NOW);
    expect(missing.problem).toMatch(/no readable certificate/);
    const keeper = new CertificateKeeper(settings, { now: () => NOW, log: () => undefined, network: () => NETWORK });
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
    tlsCaNetworks: [],
  });

  it('hands a renewed certificate to the server when the box’s addresses change', async () => {
    const dataDir = path.dirname(await tempDir());
    let network = NETWORK;
    const keeper = new CertificateKeeper(settings(dataDir), {
      now: () => NOW,
      log: () => undefined,
      network: () => network,
    });
    const first = await keeper.check();
    const renewed: string[] = [];
    keeper.watch((m) => renewed.push(m.certPem));
    try {
      keeper.recheck('nothing changed');
      await keeper.check();
      expect(renewed).toEqual([]);
      network = { ...NETWORK, interfaces: { ...INTERFACES, wlan0: [v4('192.168.1.99', '255.255.255.0')] } };
      keeper.recheck('the addresses changed');
      await keeper.check();
      await new Promise((r) => setImmediate(r));
      expect(renewed).toHaveLength(1);
      expect(renewed[0]).not.toBe(first.certPem);
      expect(new X509Certificate(renewed[0]!).subjectAltName).toContain('IP Address:192.168.1.99');
    } finally {
      keeper.stop();
    }
  });

  /** An appliance clock on a box with no RTC: a fake system clock and a fake NTP. */
  async function fakeBoxClock(systemNow: number) {
    const system = { now: systemNow };
    let ntp: TimeSyncState = 'unsynchronised';
    const clock = await ClockTrust.open({
      base: { now: () => system.now },
      mode: 'auto',
      probe: async () => ntp,
      bootId: 'boot-1',
    });
    return {
      clock,
      /** NTP steps the system clock to the right time and reports it synchronised. */
      synchronise: async (rightNow: number) => {
        system.now = rightNow;
        ntp = 'synchronised';
        await clock.refresh();
      },
    };
  }

  it('issues the certificate again when the clock goes from untrusted to trusted (booted with the last shutdown’s time)', async () => {
    const dataDir = path.dirname(await tempDir());
    const right = NOW;
    const { clock, synchronise } = await fakeBoxClock(right - 200 * DAY);
    expect(clock.trusted).toBe(false);
    const lines: string[] = [];
    const keeper = new CertificateKeeper(settings(dataDir), {
      now: () => clock.now(),
      trusted: () => clock.trusted,
      log: (_level, line) => lines.push(line),
      network: () => NETWORK,
    });
    const first = await keeper.check();
    expect(first.notAfter.getTime()).toBe(right - 200 * DAY + SERVER_VALIDITY_DAYS * DAY);
    expect(lines.some((l) => l.includes('the clock is not trusted yet'))).toBe(true);
    const renewed: string[] = [];
    keeper.watch((m) => renewed.push(m.certPem));
    keeper.followClock(clock);
    try {
      // Still untrusted: a recheck keeps it (no new certificate every day on a wrong clock).
      keeper.recheck('daily');
      await keeper.check();
      expect(renewed).toEqual([]);

      await synchronise(right);
      await expect.poll(() => renewed.length).toBe(1);
      const cert = new X509Certificate(renewed[0]!);
      expect(Date.parse(cert.validTo)).toBe(right + SERVER_VALIDITY_DAYS * DAY);
      expect(Date.parse(cert.validFrom)).toBeLessThan(right);
      expect(keeper.material?.ca?.fingerprint).toBe(first.ca?.fingerprint);
      expect(lines.some((l) => /issued on an untrusted clock, which is now trusted/.test(l))).toBe(true);

      // Trusted from now on: the next recheck keeps the new one.
      keeper.recheck('daily');
      await keeper.check();
      expect(renewed).toHaveLength(1);
    } finally {
      keeper.stop();
    }
    // A restart on a trusted clock keeps it too.
    const again = new CertificateKeeper(settings(dataDir), {
      now: () => right + DAY,
      trusted: () => true,
      log: () => undefined,
      network: () => NETWORK,
    });
    expect((await again.check()).certPem).toBe(renewed[0]);
  });

  it('issues the certificate (and CA) again when a clock that was ahead is set right by a proctor', async () => {
    const dataDir = path.dirname(await tempDir());
    const right = NOW;
    const { clock } = await fakeBoxClock(right + 500 * DAY);
    const keeper = new CertificateKeeper(settings(dataDir), {
      now: () => clock.now(),
      trusted: () => clock.trusted,
      log: () => undefined,
      network: () => NETWORK,
    });
    const first = await keeper.check();
    const renewed: { certPem: string; fingerprint: string | undefined }[] = [];
    keeper.watch((m) => renewed.push({ certPem: m.certPem, fingerprint: m.ca?.fingerprint }));
    keeper.followClock(clock);
    try {
      await clock.set(right, 'chief');
      await expect.poll(() => renewed.length).toBe(1);
      const cert = new X509Certificate(renewed[0]!.certPem);
      expect(Date.parse(cert.validFrom)).toBeLessThan(right);
      expect(Date.parse(cert.validTo)).toBe(right + SERVER_VALIDITY_DAYS * DAY);
      expect(renewed[0]!.fingerprint).not.toBe(first.ca?.fingerprint);
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

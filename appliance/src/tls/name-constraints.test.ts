/**
 * What a device that installs the hall CA trusts, judged by a tool we did not write: OpenSSL's
 * `openssl verify`, which applies the CA's name constraints as browsers do. Each leaf is signed
 * with the CA's own key (read from `ca.key`, as a thief of the box would), for names inside and
 * outside what the CA may vouch for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxNames, caScope, type BoxNames } from './box-names.js';
import { ensureLocalCa, issueServerCertificate, TLS_FILES } from './local-ca.js';
import { x509 } from './x509.js';
import { v4, v6 } from '../../../tests/support/network-interfaces.js';

/** A box on a school's /16 that also runs the hall's own Wi-Fi (10.42.0.1/24), with an IPv6 /64. */
const INTERFACES = {
  lo: [v4('127.0.0.1', '255.0.0.0', true)],
  eth0: [v4('172.20.14.9', '255.255.0.0'), v6('fd12:3456:789a:1::9', 'ffff:ffff:ffff:ffff::')],
  wlan0: [v4('10.42.0.1', '255.255.255.0')],
};
const NAMES = boxNames({
  applianceName: 'exam-hall',
  hostname: 'hallpi',
  interfaces: INTERFACES,
  extraNames: ['exam.school.internal', '192.0.2.10'],
});

let dir: string;
let caPem: string;
let caKeyPem: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'name-constraints-'));
  const made = await ensureLocalCa({
    dir: path.join(dir, 'tls'),
    applianceName: 'exam-hall',
    names: NAMES,
    scope: caScope({ names: NAMES, interfaces: INTERFACES, configuredNetworks: [] }),
    now: Date.now(),
    log: () => undefined,
  });
  caPem = made.ca.pem;
  caKeyPem = await readFile(path.join(dir, 'tls', TLS_FILES.caKey), 'utf8');
  await writeFile(path.join(dir, 'ca.pem'), caPem);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let leaves = 0;
/** `openssl verify -CAfile ca.pem leaf.pem` for a leaf naming `names`, signed with the CA's key. */
async function verify(names: BoxNames): Promise<{ ok: boolean; output: string }> {
  const leaf = await issueServerCertificate({
    ca: new x509.X509Certificate(caPem),
    caKeyPem,
    applianceName: 'exam-hall',
    names,
    now: Date.now(),
  });
  const file = path.join(dir, `leaf-${++leaves}.pem`);
  await writeFile(file, leaf.certPem);
  return new Promise((resolve) => {
    execFile(
      'openssl',
      ['verify', '-purpose', 'sslserver', '-CAfile', path.join(dir, 'ca.pem'), file],
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('the openssl command is needed');
        resolve({ ok: err === null, output: `${stdout}${stderr}` });
      },
    );
  });
}
const dns = (...names: string[]) => ({ dns: names, ips: [] });
const ips = (...addresses: string[]) => ({ dns: [], ips: addresses });
const NAME_CONSTRAINTS_ERROR = /permitted subtree violation/;

describe('a device that installs the hall CA (openssl verify)', () => {
  it('trusts it for the box’s own names and addresses, and the certificate the box serves', async () => {
    for (const names of [
      dns('exam-hall.local'),
      dns('hallpi'),
      dns('localhost'),
      dns('exam.school.internal'),
      ips('172.20.14.9', '10.42.0.1', '127.0.0.1', '::1', 'fd12:3456:789a:1::9', '192.0.2.10'),
      NAMES,
    ]) {
      const result = await verify(names);
      expect(result.output, JSON.stringify(names)).toMatch(/: OK\s*$/);
      expect(result.ok).toBe(true);
    }
  });

  it('trusts it for the hall’s subnets: a /24 (IPv6 /64) around each address, and names below the box’s', async () => {
    for (const names of [
      ips('10.42.0.77'),
      ips('172.20.14.200'),
      ips('fd12:3456:789a:1::beef'),
      dns('anything.exam-hall.local'),
    ])
      expect((await verify(names)).ok, JSON.stringify(names)).toBe(true);
  });

  it('refuses it for other names: the school’s intranet, other .local and .internal names, public sites', async () => {
    for (const name of [
      'intranet.school.internal',
      'school.internal',
      'printer.local',
      'exam-hall.local.evil.example',
      'bank.example',
      'home.arpa',
    ]) {
      const result = await verify(dns(name));
      expect(result.ok, name).toBe(false);
      expect(result.output, name).toMatch(NAME_CONSTRAINTS_ERROR);
    }
  });

  it('refuses it for other addresses: 192.168.1.1, the rest of the school’s /16, other private ranges, public ones', async () => {
    for (const address of [
      '192.168.1.1',
      '172.20.15.1',
      '172.20.0.1',
      '10.42.1.1',
      '10.0.0.1',
      '192.0.2.11',
      '8.8.8.8',
      'fd12:3456:789a:2::1',
      'fe80::1',
    ]) {
      const result = await verify(ips(address));
      expect(result.ok, address).toBe(false);
      expect(result.output, address).toMatch(NAME_CONSTRAINTS_ERROR);
    }
  });

  it('refuses a certificate that names the box and one other host', async () => {
    const result = await verify({ dns: ['exam-hall.local', 'intranet.school.internal'], ips: ['10.42.0.1'] });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(NAME_CONSTRAINTS_ERROR);
  });
});

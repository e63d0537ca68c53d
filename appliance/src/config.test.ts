import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_SCHEMA, ConfigError, describeConfig, loadConfig } from './config.js';

describe('configuration', () => {
  it('has a default for everything', () => {
    const config = loadConfig({}, '/srv/proctor');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: '/srv/proctor/data',
      demo: true,
      hallId: 'demo-hall',
    });
  });

  it('reads PROCTOR_* variables with their types', () => {
    const config = loadConfig(
      { PROCTOR_PORT: '9000', PROCTOR_DEMO: 'false', PROCTOR_DATA_DIR: '/var/lib/proctor' },
      '/x',
    );
    expect(config).toMatchObject({ port: 9000, demo: false, dataDir: '/var/lib/proctor' });
  });

  it('has the sync off by default, and never prints its password', () => {
    expect(loadConfig({}, '/x')).toMatchObject({ syncUrl: '', syncUser: '', syncPassword: '' });
    const config = loadConfig(
      {
        PROCTOR_SYNC_URL: 'https://hall-a101:url-secret@couch.example.edu:6984',
        PROCTOR_SYNC_PASSWORD: 'env-secret',
      },
      '/x',
    );
    const line = describeConfig(config);
    expect(line).toContain('syncUrl=https://hall-a101:***@couch.example.edu:6984/');
    expect(line).not.toMatch(/url-secret|env-secret/);
    const bad = () => loadConfig({ PROCTOR_SYNC_URL: 'ftp://hall-a101:url-secret@couch.example.edu' }, '/x');
    expect(bad).toThrow(/PROCTOR_SYNC_URL=.*an http:\/\/ or https:\/\/ URL/);
    expect(bad).not.toThrow(/url-secret/);
  });

  it('reads the HTTPS and clock settings; provided needs both files', () => {
    const config = loadConfig(
      {
        PROCTOR_HTTPS_MODE: 'provided',
        PROCTOR_TLS_CERT: 'certs/box.crt',
        PROCTOR_TLS_KEY: '/etc/box.key',
        PROCTOR_TLS_EXTRA_NAMES: 'Exam.Campus.Internal, 10.1.2.3',
        PROCTOR_CLOCK_TRUST: 'untrusted',
      },
      '/srv',
    );
    expect(config).toMatchObject({
      httpsMode: 'provided',
      tlsCert: '/srv/certs/box.crt',
      tlsKey: '/etc/box.key',
      tlsExtraNames: ['exam.campus.internal', '10.1.2.3'],
      clockTrustMode: 'untrusted',
      httpPort: 8081,
    });
    expect(loadConfig({}, '/x')).toMatchObject({ httpsMode: 'off', clockTrustMode: 'auto', tlsExtraNames: [] });
    expect(() => loadConfig({ PROCTOR_HTTPS_MODE: 'provided' }, '/x')).toThrow(/PROCTOR_TLS_CERT and PROCTOR_TLS_KEY/);
    expect(() => loadConfig({ PROCTOR_HTTPS_MODE: 'on' }, '/x')).toThrow(/PROCTOR_HTTPS_MODE/);
    expect(() => loadConfig({ PROCTOR_TLS_EXTRA_NAMES: 'bad name!' }, '/x')).toThrow(/PROCTOR_TLS_EXTRA_NAMES/);
    expect(loadConfig({ PROCTOR_TLS_CA_NETWORKS: ' 10.42.0.0/24, FD00::/48 ' }, '/x').tlsCaNetworks).toEqual([
      '10.42.0.0/24',
      'fd00::/48',
    ]);
    expect(loadConfig({}, '/x').tlsCaNetworks).toEqual([]);
    expect(() => loadConfig({ PROCTOR_TLS_CA_NETWORKS: '10.42.0.1/24' }, '/x')).toThrow(
      /PROCTOR_TLS_CA_NETWORKS.*starts at 10\.42\.0\.0\/24/,
    );
  });

  it('refuses bad values and unknown settings, naming each variable', () => {
    const attempt = () => loadConfig({ PROCTOR_PORT: 'eighty', PROCTOR_DEMO: 'maybe', PROCTOR_HALLID: 'x' }, '/x');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PROCTOR_PORT="eighty"/);
    expect(attempt).toThrow(/PROCTOR_DEMO="maybe"/);
    expect(attempt).toThrow(/PROCTOR_HALLID: unknown setting/);
  });

  it('is documented: the README lists every variable with its default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const spec of Object.values(CONFIG_SCHEMA)) {
      const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // An empty default is written "(none)".
      const shown = spec.default === '' ? '\\(none\\)' : `\`${escape(spec.default)}\``;
      expect(readme, spec.env).toMatch(new RegExp(`\\|\\s*\`${escape(spec.env)}\`\\s*\\|\\s*${shown}\\s*\\|`));
    }
  });
});
